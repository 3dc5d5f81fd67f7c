// These builders reshape untyped JSON the way Argo CD would; `any` keeps that readable.
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call */
import application from '../fixtures/argocd-application-degraded.json';

/**
 * Argo CD Application fixtures, all derived from tests/fixtures/argocd-application-degraded.json
 * (single source, Helm, v2-style inline resource health; history oldest first, last entry = failed).
 */

export type Application = typeof application & Record<string, unknown>;

/** Revisions in the shared fixture's history (ids 7, 8, 9); 9 is the failed sync. */
export const REV_7 = 'a41d7c0e5f9b2d8c6e3a1f7b4d0c9e2a8b6f5d13';
export const REV_8 = '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2';
export const REV_9 = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';
export const CHART_VERSION = '6.9.0';

export function singleSource(): Application {
  return structuredClone(application);
}

/**
 * The same app as a multi-source Application: a Helm chart from a Helm repository (index 0) plus the
 * GitOps repository holding the values file (index 1, `ref: values`). Argo CD then leaves `revision`
 * empty and fills `revisions[]`, one per source, in sync, syncResult and every history entry.
 */
export function multiSource(): Application {
  const app = singleSource() as Record<string, any>;
  const sources = [
    { repoURL: 'https://stefanprodan.github.io/podinfo', chart: 'podinfo', targetRevision: CHART_VERSION, helm: { valueFiles: ['$values/charts/podinfo/values-prod.yaml'] } },
    { repoURL: 'https://github.com/acme/gitops.git', targetRevision: 'main', ref: 'values' },
  ];
  delete app.spec.source;
  app.spec.sources = sources;
  delete app.status.sync.revision;
  app.status.sync.revisions = [CHART_VERSION, REV_9];
  app.status.sync.comparedTo = { sources, destination: app.status.sync.comparedTo.destination };
  const syncResult = app.status.operationState.syncResult;
  delete syncResult.revision;
  delete syncResult.source;
  syncResult.revisions = [CHART_VERSION, REV_9];
  syncResult.sources = sources;
  delete app.status.operationState.operation.sync.revision;
  app.status.operationState.operation.sync.revisions = [CHART_VERSION, REV_9];
  app.status.history = app.status.history.map((h: Record<string, any>) => {
    const { revision, source: _source, ...rest } = h;
    return { ...rest, revisions: [CHART_VERSION, revision], sources };
  });
  return app as Application;
}

/** Argo CD 3 default: resourceHealthSource appTree, so status.resources carry no health at all. */
export function v3AppTree(): Application {
  const app = singleSource() as Record<string, any>;
  app.status.resourceHealthSource = 'appTree';
  for (const resource of app.status.resources) delete resource.health;
  return app as Application;
}

/** A first deploy that went Degraded: the failed sync is the only one, and no history was recorded yet. */
export function firstDeploy(): Application {
  const app = singleSource() as Record<string, any>;
  delete app.status.history;
  return app as Application;
}

/** A Degraded app Argo CD never synced (manual sync policy, resources already there): no operationState, no history. */
export function neverSynced(): Application {
  const app = singleSource() as Record<string, any>;
  delete app.status.operationState;
  delete app.status.history;
  return app as Application;
}

/**
 * The app with `count` synced resources (status.resources and operationState.syncResult.resources): a
 * large app, whose whole operationState no longer fits in a webhook body.
 */
export function withResources(app: Application, count: number): Application {
  const a = structuredClone(app) as Record<string, any>;
  const resource = (i: number) => ({ group: 'apps', version: 'v1', kind: 'Deployment', namespace: 'podinfo', name: `worker-${String(i).padStart(4, '0')}` });
  a.status.resources = Array.from({ length: count }, (_, i) => ({ ...resource(i), status: 'Synced', health: { status: i === 0 ? 'Degraded' : 'Healthy' } }));
  if (a.status.operationState?.syncResult) {
    a.status.operationState.syncResult.resources = Array.from({ length: count }, (_, i) => ({
      ...resource(i),
      status: 'Synced',
      message: `deployment.apps/worker-${String(i).padStart(4, '0')} configured`,
      hookPhase: 'Running',
      syncPhase: 'Sync',
    }));
  }
  return a as Application;
}

/** The same app reported Healthy after a good sync of `revision` (what on-deployed sees). */
export function healthyAt(revision: string): Application {
  const app = singleSource() as Record<string, any>;
  app.status.health = { status: 'Healthy', lastTransitionTime: '2025-06-03T09:52:10Z' };
  app.status.sync.revision = revision;
  app.status.operationState.syncResult.revision = revision;
  app.status.history = app.status.history.filter((h: { revision: string }) => h.revision !== REV_9);
  return app as Application;
}

/** An operation in Argo CD's operationState: its phase, message, result and requested revision (default REV_9); null: no result yet. */
export type SyncOperation = { phase?: string; message?: string; syncResult?: string | string[] | null; requested?: string | string[] };

/**
 * The app deployed at REV_8 (history REV_7, REV_8; multi-source: the chart 6.9.0 beside each), Git at
 * REV_9, health `health`, and the operation `op` on record (null: none). Issue 39's states: a sync of
 * REV_9 running, retrying, failed; `history: false` for a first sync that never finished.
 */
export function syncState(health: string, op: SyncOperation | null, options: { multi?: boolean; history?: boolean } = {}): Application {
  const app = (options.multi ? multiSource() : healthyAt(REV_8)) as Record<string, any>;
  const set = (revision: string | string[]) => (options.multi ? { revisions: Array.isArray(revision) ? revision : [CHART_VERSION, revision] } : { revision });
  app.status.health = { status: health, lastTransitionTime: '2025-06-03T10:27:41Z' };
  if (options.history === false) delete app.status.history;
  else app.status.history = [7, 8].map((id) => ({ id, deployedAt: '2025-06-03T09:00:00Z', deployStartedAt: '2025-06-03T08:59:50Z', ...set(id === 7 ? REV_7 : REV_8) }));
  app.status.sync = { ...app.status.sync, status: 'OutOfSync', ...set(REV_9) };
  if (op === null) {
    delete app.status.operationState;
    return app as Application;
  }
  const syncResult = op.syncResult === null ? undefined : { ...set(op.syncResult ?? REV_9), resources: [] };
  app.status.operationState = {
    operation: { sync: set(op.requested ?? REV_9), initiatedBy: { automated: true }, retry: { limit: 5 } },
    phase: op.phase,
    message: op.message ?? '',
    ...(syncResult ? { syncResult } : {}),
    startedAt: '2025-06-03T10:17:21Z',
    ...(op.phase === 'Running' ? {} : { finishedAt: '2025-06-03T10:17:30Z' }),
  };
  return app as Application;
}

/** How many history entries the shipped templates send (the newest ones). */
export const HISTORY_SENT = 10;

/** How many sources the shipped templates send (the first ones). */
export const SOURCES_SENT = 20;

/** The "sources" the shipped templates send: spec.sources (else spec.source), each with Argo CD's detected type. */
function sourcesOf(a: Record<string, any>): Array<Record<string, unknown>> {
  const sources: Array<Record<string, any>> = a.spec?.sources?.length ? a.spec.sources : [a.spec?.source ?? {}];
  const types: string[] = a.status?.sourceTypes?.length ? a.status.sourceTypes : [a.status?.sourceType ?? ''];
  return sources.slice(0, SOURCES_SENT).map((s, i) => ({
    repoURL: s.repoURL ?? '',
    path: s.path ?? '',
    targetRevision: s.targetRevision ?? '',
    chart: s.chart ?? '',
    ref: s.ref ?? '',
    valueFiles: s.helm?.valueFiles ?? [],
    type: i < types.length ? types[i] : '',
  }));
}

/**
 * The body the shipped templates send (shape C), built the way they build it: each field read with a
 * default ("" or []), only a "chart" per synced source, the newest HISTORY_SENT history entries, no
 * per-resource lists. scripts/argocd-real.ts checks that every body the real notifications engine
 * renders equals this function's result for the same Application, so tests built on it test the
 * shipped templates.
 */
export function toStateBody(app: Application): Record<string, unknown> {
  const a = app as Record<string, any>;
  const status = a.status ?? {};
  const op = status.operationState ?? {};
  const syncResult = op.syncResult ?? {};
  const history: Array<Record<string, any>> = status.history ?? [];
  return {
    app: a.metadata.name,
    namespace: a.metadata.namespace ?? null,
    project: a.spec?.project ?? '',
    health: { status: status.health?.status ?? '' },
    sync: { status: status.sync?.status ?? '', revision: status.sync?.revision ?? '', revisions: status.sync?.revisions ?? [] },
    operationState: {
      phase: op.phase ?? '',
      finishedAt: op.finishedAt ?? '',
      syncResult: {
        revision: syncResult.revision ?? '',
        revisions: syncResult.revisions ?? [],
        sources: (syncResult.sources ?? []).map((source: Record<string, any>) => ({ chart: source.chart ?? '' })),
      },
    },
    history: history.slice(-HISTORY_SENT).map((h) => ({ id: h.id ?? null, revision: h.revision ?? '', revisions: h.revisions ?? [] })),
    sources: sourcesOf(a),
  };
}

/** The repository of the shared fixture, as Argo CD's repoURL. */
export const GITOPS_REPO_URL = 'https://github.com/acme/gitops.git';

/**
 * The single-source fixture rendering from `source` instead (Argo CD detected `sourceType`), named
 * `name`: a Kustomize, directory or Helm app of the same GitOps repository, same revisions.
 */
export function singleSourceApp(name: string, source: Record<string, unknown>, sourceType: string): Application {
  const app = singleSource() as Record<string, any>;
  app.metadata.name = name;
  app.spec.source = source;
  app.status.sourceType = sourceType;
  app.status.operationState.syncResult.source = source;
  app.status.operationState.operation.sync.source = source;
  for (const h of app.status.history) h.source = source;
  return app as Application;
}

/**
 * A multi-source app: `sources` with Argo CD's detected `types`, each history entry's and the failed
 * sync's revisions given per source (history oldest first, the last entry is the failed sync).
 */
export function multiSourceApp(name: string, sources: Array<Record<string, unknown>>, types: string[], history: string[][]): Application {
  const app = multiSource() as Record<string, any>;
  const failed = history[history.length - 1]!;
  app.metadata.name = name;
  app.spec.sources = sources;
  app.status.sourceTypes = types;
  delete app.status.sourceType;
  app.status.sync.revisions = failed;
  app.status.sync.comparedTo = { sources, destination: app.status.sync.comparedTo.destination };
  app.status.operationState.syncResult.revisions = failed;
  app.status.operationState.syncResult.sources = sources;
  app.status.operationState.operation.sync.revisions = failed;
  app.status.history = history.map((revisions, i) => ({ id: 7 + i, revisions, sources, deployedAt: `2025-06-03T0${7 + i}:00:00Z`, deployStartedAt: `2025-06-03T0${7 + i}:00:00Z`, initiatedBy: { automated: true } }));
  return app as Application;
}

/** The apps of issue 20's loop tests, one per kind Argo CD renders from (revisions REV_7/8/9 as in the fixture). */
export const KIND_APPS = {
  kustomize: () => singleSourceApp('web', { repoURL: GITOPS_REPO_URL, targetRevision: 'main', path: 'apps/web', kustomize: { images: [] } }, 'Kustomize'),
  directory: () => singleSourceApp('plain', { repoURL: GITOPS_REPO_URL, targetRevision: 'main', path: 'apps/plain', directory: { recurse: false } }, 'Directory'),
  helmTwoValueFiles: () =>
    singleSourceApp('podinfo-two', { repoURL: GITOPS_REPO_URL, targetRevision: 'main', path: 'charts/podinfo', helm: { valueFiles: ['values-common.yaml', 'values-prod.yaml'] } }, 'Helm'),
  /** Argo CD Image Updater writes charts/podinfo/.argocd-source-podinfo-prod.yaml: the Helm app with one value file. */
  imageUpdater: () => singleSourceApp('podinfo-prod', { repoURL: GITOPS_REPO_URL, targetRevision: 'main', path: 'charts/podinfo', helm: { valueFiles: ['values-prod.yaml'] } }, 'Helm'),
  /** The chart from a chart repository, its values from a second GitOps repository (acme/helm-values). */
  valuesElsewhere: () =>
    multiSourceApp(
      'podinfo-values',
      [
        { repoURL: 'https://stefanprodan.github.io/podinfo', chart: 'podinfo', targetRevision: CHART_VERSION, helm: { valueFiles: ['$values/charts/podinfo/values-prod.yaml'] } },
        { repoURL: 'git@github.com:acme/helm-values.git', targetRevision: 'main', ref: 'values' },
      ],
      ['Helm', 'Directory'],
      [[CHART_VERSION, REV_7], [CHART_VERSION, REV_8], [CHART_VERSION, REV_9]],
    ),
  /** Only the chart version moved (6.9.0 → 6.9.1) with the values at the same commit. */
  chartBump: () =>
    multiSourceApp(
      'podinfo-chart',
      [
        { repoURL: 'https://stefanprodan.github.io/podinfo', chart: 'podinfo', targetRevision: '6.9.1', helm: { valueFiles: ['$values/charts/podinfo/values-prod.yaml'] } },
        { repoURL: GITOPS_REPO_URL, targetRevision: 'main', ref: 'values' },
      ],
      ['Helm', 'Directory'],
      [[CHART_VERSION, REV_7], [CHART_VERSION, REV_8], ['6.9.1', REV_8]],
    ),
  /** A single chart from a chart repository: its revision is the chart version. */
  chartOnly: () => {
    const app = singleSourceApp('podinfo-chart-only', { repoURL: 'https://stefanprodan.github.io/podinfo', chart: 'podinfo', targetRevision: '6.9.1' }, 'Helm') as Record<string, any>;
    app.status.sync.revision = '6.9.1';
    app.status.operationState.syncResult.revision = '6.9.1';
    app.status.history = app.status.history.map((h: Record<string, unknown>, i: number) => ({ ...h, revision: ['6.8.0', CHART_VERSION, '6.9.1'][i] }));
    return app as Application;
  },
};

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

/** The same app reported Healthy after a good sync of `revision` (what on-deployed sees). */
export function healthyAt(revision: string): Application {
  const app = singleSource() as Record<string, any>;
  app.status.health = { status: 'Healthy', lastTransitionTime: '2025-06-03T09:52:10Z' };
  app.status.sync.revision = revision;
  app.status.operationState.syncResult.revision = revision;
  app.status.history = app.status.history.filter((h: { revision: string }) => h.revision !== REV_9);
  return app as Application;
}

/**
 * The body the shipped degraded template sends (shape C): the app's name and a few status fields, each
 * rendered with toJson, so a field Argo CD does not have arrives as null.
 */
export function toStateBody(app: Application): Record<string, unknown> {
  const status = app.status as Record<string, unknown>;
  return {
    app: app.metadata.name,
    namespace: app.metadata.namespace,
    project: app.spec.project,
    health: status.health ?? null,
    sync: status.sync ?? null,
    operationState: status.operationState ?? null,
    history: status.history ?? null,
  };
}

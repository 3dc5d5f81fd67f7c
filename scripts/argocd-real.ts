/**
 * Runs the scenarios in tests/argocd-real/ through the real Argo CD notifications engine
 * (../shared/argocd-notifications-real, or ARGO_REAL_DIR) against the built service, and fails when
 * any expectation does not hold or the harness cannot run. The service runs for real (not in dry run)
 * in front of the fake GitHub, so each scenario also ends with GitHub's side: every rollback the store
 * holds as queued is delivered, exactly one dispatch per (app, failed revision), each body valid
 * against GitHub's schema. Also checks that every body the engine rendered equals toStateBody() of the
 * same Application, the mirror the jest suites post.
 *
 *   npm run build && npx tsx scripts/argocd-real.ts [scenario-name ...]     (npm run test:argocd-real)
 *
 * Output per scenario under out/argocd-real/<name>/ (summary.txt, results.json, service.log, ...).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { FakeGitHub } from '../tests/support/fake-github';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from '../tests/support/harness';
import { serviceEnv, spawnService, type ServiceProcess } from '../tests/support/service-process';
import {
  REV_8,
  REV_9,
  CHART_VERSION,
  KIND_APPS,
  healthyAt,
  multiSource,
  neverSynced,
  singleSource,
  syncState,
  toStateBody,
  withResources,
  type Application,
} from '../tests/support/argocd-fixtures';

const root = resolve(__dirname, '..');
const harnessDir = resolve(process.env.ARGO_REAL_DIR ?? join(root, '..', 'shared', 'argocd-notifications-real'));
const scenariosDir = join(root, 'tests', 'argocd-real');
const work = join(root, 'out', 'argocd-real');

function fail(message: string): never {
  console.error(`argocd-real: ${message}`);
  process.exit(1);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** RFC 7386 JSON merge patch, as the harness applies `appPatch`. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Json = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Json) } : {};
  for (const [key, value] of Object.entries(patch as Json)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function multiSourceAt(revisions: [string, string], health: string): Application {
  const app = multiSource() as Json;
  app.status.health = { status: health, lastTransitionTime: '2025-06-03T10:27:41Z' };
  app.status.sync.revisions = revisions;
  app.status.operationState.syncResult.revisions = revisions;
  app.status.operationState.operation.sync.revisions = revisions;
  return app as Application;
}

/**
 * The largest body the shipped templates render for a plausible app: maximal name lengths, 20 sources
 * (19 Helm charts with 100-character names + the Git source), SHA-256 (64-hex) revisions everywhere, and
 * more history than the templates send.
 */
function largestApp(): Application {
  const app = multiSource() as Json;
  const sha = (n: number) => n.toString(16).padStart(64, 'e');
  // Names at their longest: a 253-character chart repository URL, 100-character chart names, three
  // 253-character value files per chart, and the values repository with GitHub's longest owner and name.
  const valueFile = (i: number, n: number) => `$values/${`charts/c${i}/values-${n}-`.padEnd(241, 'v')}.yaml`;
  const sources = [
    ...Array.from({ length: 19 }, (_, i) => ({
      repoURL: `https://charts.example/${i}/`.padEnd(253, 'r'),
      chart: `c${i}`.padEnd(100, 'x'),
      targetRevision: '1.0.0',
      helm: { valueFiles: [1, 2, 3].map((n) => valueFile(i, n)) },
    })),
    { repoURL: `https://github.com/${'o'.repeat(39)}/${'r'.repeat(100)}.git`, targetRevision: 'main', ref: 'values' },
  ];
  const revisions = (n: number) => sources.map((_, i) => sha(n * 100 + i));
  app.metadata.name = 'a'.repeat(253);
  app.metadata.namespace = 'n'.repeat(63);
  app.spec.project = 'p'.repeat(253);
  app.spec.sources = sources;
  app.status.sync.revisions = revisions(99);
  app.status.sync.comparedTo = { sources, destination: app.status.sync.comparedTo.destination };
  app.status.operationState.syncResult.revisions = revisions(99);
  app.status.operationState.syncResult.sources = sources;
  app.status.operationState.operation.sync.revisions = revisions(99);
  app.status.history = Array.from({ length: 12 }, (_, i) => ({ id: 1000 + i, revisions: i === 11 ? revisions(99) : revisions(i), sources, deployedAt: '2025-06-03T09:51:38Z' }));
  app.status.sourceTypes = sources.map((s) => ('chart' in s ? 'Helm' : 'Directory'));
  return app as Application;
}

const SYNC_RETRYING = { phase: 'Running', message: 'Retrying attempt #1 at 10:17AM: one or more objects failed to apply, reason: admission webhook denied the request' };
const SYNC_FAILED = { phase: 'Failed', message: 'one or more objects failed to apply (dry run): error validating data' };

/** The Application objects the scenarios name, built from the project's fixtures (tests/support/argocd-fixtures.ts). */
function applications(): Record<string, Application> {
  const apps: Record<string, Application> = {
    'single-healthy-3b7e': healthyAt(REV_8),
    'single-degraded-9f1c': singleSource(),
    'multi-healthy-3b7e': multiSourceAt([CHART_VERSION, REV_8], 'Healthy'),
    'multi-degraded-9f1c': multiSourceAt([CHART_VERSION, REV_9], 'Degraded'),
    'multi-degraded-9f1c-chart-6.9.1': multiSourceAt(['6.9.1', REV_9], 'Degraded'),
    'never-synced-degraded': neverSynced(),
    'large-degraded-9f1c-2000-resources': withResources(singleSource(), 2000),
    'largest-body-20-sources': largestApp(),
    // Issue 20: one Degraded app per kind Argo CD renders from (tests/e2e/restore-kinds.test.ts posts the same bodies).
    'kind-kustomize-degraded': KIND_APPS.kustomize(),
    'kind-directory-degraded': KIND_APPS.directory(),
    'kind-helm-two-value-files-degraded': KIND_APPS.helmTwoValueFiles(),
    'kind-image-updater-degraded': KIND_APPS.imageUpdater(),
    'kind-values-elsewhere-degraded': KIND_APPS.valuesElsewhere(),
    'kind-chart-bump-degraded': KIND_APPS.chartBump(),
    'kind-chart-only-degraded': KIND_APPS.chartOnly(),
    // Issue 39: Healthy on 3b7e while a sync of 9f1c retries, after it failed; Degraded after it failed.
    'single-healthy-syncing-9f1c': syncState('Healthy', SYNC_RETRYING),
    'single-healthy-sync-failed-9f1c': syncState('Healthy', SYNC_FAILED),
    'single-degraded-sync-failed-9f1c': syncState('Degraded', SYNC_FAILED),
  };
  // The harness adds the shipped subscription annotations and carries the notified one itself.
  for (const app of Object.values(apps)) (app as Json).metadata.annotations = {};
  return apps;
}

interface StepResult {
  name: string;
  app: string | Json;
  appPatch?: Json;
  error?: string;
  triggers?: Array<{ trigger: string; rendered?: Array<{ body: string; bodyBytes: number }> }>;
}

type ScenarioStep = { app: string | Json; appPatch?: Json; cmEdits?: unknown[] };

/**
 * Every body the shipped templates rendered must be exactly the mirror's body for the app as presented
 * (steps with cmEdits render an edited ConfigMap, not the shipped one, and are left out).
 */
function checkMirror(results: { steps: StepResult[] }, scenario: { steps: ScenarioStep[] }, dir: string): { problems: string[]; largest: number } {
  const problems: string[] = [];
  let largest = 0;
  results.steps.forEach((step, i) => {
    const source = scenario.steps[i]!;
    if ((source.cmEdits ?? []).length > 0) return;
    const base = typeof source.app === 'string' ? (JSON.parse(readFileSync(join(dir, source.app), 'utf8')) as Json) : source.app;
    const app = mergePatch(base, source.appPatch ?? {}) as Application;
    for (const trigger of step.triggers ?? []) {
      for (const rendered of trigger.rendered ?? []) {
        largest = Math.max(largest, rendered.bodyBytes);
        let body: unknown;
        try {
          body = JSON.parse(rendered.body);
        } catch {
          problems.push(`${step.name} / ${trigger.trigger}: the rendered body is not JSON`);
          continue;
        }
        if (!isDeepStrictEqual(body, toStateBody(app))) {
          problems.push(`${step.name} / ${trigger.trigger}: the rendered body differs from toStateBody():\n  engine: ${JSON.stringify(body)}\n  mirror: ${JSON.stringify(toStateBody(app))}`);
        }
      }
    }
  });
  return { problems, largest };
}

interface EventView {
  id: string;
  app: string;
  status: string;
  failed_revision: string;
}

/** Waits until no event is queued, delivering or retrying, then returns them all. */
async function settledEvents(service: ServiceProcess, timeoutMs = 20_000): Promise<EventView[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${service.url}/v1/events?limit=500`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } });
    const { events } = (await res.json()) as { events: EventView[] };
    if (!events.some((e) => ['queued', 'delivering', 'retrying'].includes(e.status))) return events;
    if (Date.now() > deadline) return events;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** GitHub's side of a scenario: one valid dispatch per delivered event, one per (app, failed revision). */
function checkDispatches(github: FakeGitHub, events: EventView[]): { problems: string[]; count: number } {
  const problems: string[] = [];
  const accepted = github.accepted();
  const schemaErrors = github.received.flatMap((r) => r.schemaErrors);
  if (schemaErrors.length > 0) problems.push(`dispatch bodies broke GitHub's schema: ${JSON.stringify(schemaErrors)}`);
  const stuck = events.filter((e) => e.status !== 'delivered' && e.status !== 'suppressed');
  if (stuck.length > 0) problems.push(`events not delivered: ${stuck.map((e) => `${e.app}@${e.failed_revision.slice(0, 7)} ${e.status}`).join(', ')}`);
  const keys = accepted.map((d) => `${String(d.body?.client_payload?.app)}@${String(d.body?.client_payload?.failed_revision)}`);
  const doubled = keys.filter((k, i) => keys.indexOf(k) !== i);
  if (doubled.length > 0) problems.push(`more than one dispatch for ${[...new Set(doubled)].join(', ')}`);
  const delivered = events.filter((e) => e.status === 'delivered').map((e) => e.id).sort();
  const dispatched = accepted.map((d) => String(d.body?.client_payload?.event_id)).sort();
  if (!isDeepStrictEqual(delivered, dispatched)) problems.push(`delivered events ${JSON.stringify(delivered)} differ from dispatched event ids ${JSON.stringify(dispatched)}`);
  return { problems, count: accepted.length };
}

async function main(): Promise<void> {
  const runSh = join(harnessDir, 'run.sh');
  if (!existsSync(runSh)) fail(`${runSh} is missing: the real-engine scenarios cannot run (set ARGO_REAL_DIR to the argocd-notifications-real folder)`);
  if (!existsSync(join(root, 'dist', 'main.js'))) fail('dist/main.js is missing: run npm run build first');

  const only = process.argv.slice(2);
  const names = readdirSync(scenariosDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.replace(/\.json$/, ''))
    .filter((n) => only.length === 0 || only.includes(n));
  if (names.length === 0) fail(`no scenario in ${scenariosDir}${only.length ? ` named ${only.join(', ')}` : ''}`);

  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'apps'), { recursive: true });
  for (const [name, app] of Object.entries(applications())) writeFileSync(join(work, 'apps', `${name}.json`), `${JSON.stringify(app, null, 2)}\n`);

  const failures: string[] = [];
  let largest = 0;
  for (const name of names) {
    const scenarioPath = join(work, `${name}.json`);
    copyFileSync(join(scenariosDir, `${name}.json`), scenarioPath);
    const out = join(work, name);
    mkdirSync(out, { recursive: true });
    console.log(`\n===== ${name}`);
    const started = Date.now();
    // `ledgerAfter` is this script's own check (the harness refuses keys it does not know): each app's
    // whole ledger after the last step, newest first.
    const { ledgerAfter, ...scenario } = JSON.parse(readFileSync(scenarioPath, 'utf8')) as { serviceEnv?: Record<string, string>; steps: ScenarioStep[]; ledgerAfter?: Record<string, string[]> };
    writeFileSync(scenarioPath, `${JSON.stringify(scenario, null, 2)}\n`);
    // The service for real, not in dry run: run.sh's own service is always DRY_RUN=true.
    const github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops', 'acme/helm-values', `${'o'.repeat(39)}/${'r'.repeat(100)}`] }).start();
    const service = await spawnService(serviceEnv(github.url, `sqlite:${join(out, 'service.db')}`, { ...scenario.serviceEnv, LOG_LEVEL: 'info' }), out);
    try {
      const run = spawnSync('bash', [runSh, '--project', root, '--scenario', scenarioPath, '--out', out, '--service-url', service.url, '--token', WEBHOOK_TOKEN, '--fail-on-expect'], {
        stdio: ['ignore', 'inherit', 'inherit'],
        env: { ...process.env, ARGO_REAL_GOCACHE: process.env.ARGO_REAL_GOCACHE ?? join(root, 'out', 'argocd-real-gocache') },
      });
      if (run.status !== 0) {
        failures.push(`${name}: run.sh exited ${run.status ?? run.signal}${run.status === 3 ? ' (an expectation did not hold: FAIL lines above)' : ''}`);
        continue;
      }
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { steps: StepResult[] };
      const mirror = checkMirror(results, scenario, work);
      largest = Math.max(largest, mirror.largest);
      failures.push(...mirror.problems.map((p) => `${name}: ${p}`));
      const events = await settledEvents(service);
      const dispatches = checkDispatches(github, events);
      failures.push(...dispatches.problems.map((p) => `${name}: GitHub: ${p}`));
      for (const [app, expected] of Object.entries(ledgerAfter ?? {})) {
        const res = await fetch(`${service.url}/v1/apps/${encodeURIComponent(app)}`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } });
        const ledger = ((await res.json()) as { ledger?: Array<{ revision: string }> }).ledger?.map((r) => r.revision);
        if (!isDeepStrictEqual(ledger, expected)) failures.push(`${name}: the ledger of ${app} is ${JSON.stringify(ledger)}, expected ${JSON.stringify(expected)}`);
        else console.log(`===== ${name}: the ledger of ${app} is ${JSON.stringify(ledger)}, as expected`);
      }
      console.log(`===== ${name}: ${events.length} event(s), ${dispatches.count} dispatch(es) to GitHub${dispatches.problems.length === 0 ? ', one per (app, failed revision)' : ''}`);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
      writeFileSync(join(out, 'service.log'), `${service.lines.join('\n')}\n${service.stderr()}`);
      await github.stop();
      console.log(`===== ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }

  console.log(`\nargocd-real: ${names.length} scenario(s); largest body rendered by the shipped templates: ${largest} bytes`);
  if (failures.length > 0) fail(`${failures.length} problem(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  console.log('argocd-real: every expectation holds, and every rendered body equals toStateBody()');
}

main().catch((error: unknown) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));

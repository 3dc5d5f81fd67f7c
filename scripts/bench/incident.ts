import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FakeGitHub, type ReceivedDispatch } from '../../tests/support/fake-github';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from '../../tests/support/harness';
import { serviceEnv, spawnService } from '../../tests/support/service-process';
import { evaluate, loadWorkflow } from '../../tests/support/workflow-runner';

/** How many apps go Degraded at once, and over how long their notifications arrive. */
export const INCIDENT_APPS = Number(process.env.BENCH_INCIDENT_APPS ?? 100);
const NOTIFY_OVER_MS = 10_000;
/** The service's default pace between dispatches (GITHUB_MIN_INTERVAL_MS). */
const PACE_MS = 1000;
/** Give up waiting for every rollback to be verified after this long. */
const GIVE_UP_MS = 20 * 60_000;

export interface IncidentResult {
  apps: number;
  store: string;
  replicas: number;
  /** Seconds from the last notification to each rollback's dispatch, in dispatch order. */
  dispatchSeconds: number[];
  /** Seconds from each rollback's notification to its dispatch. */
  notifyToDispatch: { p50: number; p99: number; last: number };
  /** Seconds from each rollback's notification to `verified` (those verified). */
  notifyToVerified: { p50: number; p99: number; last: number };
  verified: number;
  /** Rollbacks whose N-th dispatch came later than N × pace + 5 s after the last notification. */
  late: number;
  dispatches: number;
  /** GitHub reads per rollback, by kind (runs list, jobs, log, commits, pulls, workflows, repository). */
  readsPerRollback: Record<string, number>;
  readsPerRollbackTotal: number;
  /** 403/429 answers of the stand-in's secondary limits, and any other rate-limit answer. */
  rateLimited: number;
  seconds: number;
}

const quantile = (values: number[], q: number) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (low: number, high: number) => low + Math.random() * (high - low);

function readKind(path: string): string {
  if (/\/actions\/runs\/\d+\/jobs$/.test(path)) return 'jobs';
  if (/\/actions\/jobs\/\d+\/logs$/.test(path) || path.startsWith('/_blob/')) return 'log';
  if (/\/actions\/runs$/.test(path)) return 'runs';
  if (/\/actions\/workflows$/.test(path)) return 'workflows';
  if (/\/commits$/.test(path)) return 'commits';
  if (/\/pulls$/.test(path)) return 'pulls';
  return 'repository';
}

/**
 * A cluster-wide incident: INCIDENT_APPS apps go Degraded within 10 s, each notified once, against a
 * stand-in GitHub that answers each call in 100–400 ms and enforces GitHub's secondary limits, starts
 * each workflow run 2–4 s after its dispatch (listed as GitHub lists it), and a stand-in runner that
 * finishes it 4–8 s later with a restore commit on main; Argo CD then reports the app Healthy at that
 * commit. The service runs with its defaults (a dispatch a second). Measures what an on-call engineer
 * watching 100 apps go red would ask: when was each one dispatched, when verified, and what it cost.
 */
export async function benchIncident(options: { work: string; databaseUrl: string; replicas?: number; say: (line: string) => void; track: (child: ChildProcess) => void }): Promise<IncidentResult> {
  const { work, say } = options;
  const replicas = options.replicas ?? 1;
  const origin = join(work, `incident-${Date.now()}.git`);
  mkdirSync(origin, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', ['--git-dir', origin, ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid' } }).trim();
  git('init', '--quiet', '--bare', '--initial-branch=main');
  const emptyTree = git('hash-object', '-t', 'tree', '-w', '/dev/null');
  let head = git('commit-tree', emptyTree, '-m', 'healthy');
  git('update-ref', 'refs/heads/main', head);

  const github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'], gitRepos: { 'acme/gitops': origin }, latencyMs: () => between(100, 400), secondaryLimits: true }).start();
  const workflow = loadWorkflow();
  const env = serviceEnv(github.url, options.databaseUrl, { LOG_LEVEL: 'info' });
  // The service's own defaults: no pace, poll or lookup setting of the bench's.
  delete env.GITHUB_MIN_INTERVAL_MS;
  const services = [];
  for (let i = 0; i < replicas; i += 1) {
    const service = await spawnService(env, work);
    options.track(service.child);
    services.push(service);
  }
  const url = services[0]!.url;
  const post = (body: unknown) => fetch(`${url}/v1/webhooks/argocd`, { method: 'POST', headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  const healthyAt = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  const later = (ms: number, work: () => unknown) => {
    const done = sleep(ms).then(work);
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  // The stand-in runner: a run listed 2–4 s after the dispatch, in progress, then a restore commit on main
  // (one at a time, as pushes to one branch are) and success; Argo CD syncs it and reports Healthy.
  github.onAccepted = (dispatch: ReceivedDispatch) => {
    const body = dispatch.body!;
    const app = String(body.client_payload?.app);
    const eventId = String(body.client_payload?.event_id);
    later(between(2000, 4000), () => {
      const run = github.addRun(evaluate(workflow['run-name'], body));
      later(between(500, 1500), () => github.updateRun(run, 'in_progress'));
      later(between(4000, 8000), () => {
        const commit = git('commit-tree', emptyTree, '-p', head, '-m', `rollback(${app}): restore\n\nRollback-Event: ${eventId}`);
        git('update-ref', 'refs/heads/main', commit, head);
        head = commit;
        github.updateRun(run, 'completed', 'success');
        later(between(1000, 3000), async () => {
          const res = await post({ app, status: 'Healthy', revision: commit });
          if (res.status === 200) healthyAt.set(app, Date.now());
        });
      });
    });
  };

  const apps = Array.from({ length: INCIDENT_APPS }, (_, i) => `incident-app-${String(i).padStart(3, '0')}`);
  const notifiedAt = new Map<string, number>();
  const ids = new Map<string, string>();
  const started = Date.now();
  say(`incident: ${INCIDENT_APPS} apps go Degraded within ${NOTIFY_OVER_MS / 1000} s (${replicas} replica${replicas > 1 ? 's' : ''}, ${options.databaseUrl.split(':')[0]})`);
  for (const [i, app] of apps.entries()) {
    await sleep(Math.max(0, started + (i * NOTIFY_OVER_MS) / INCIDENT_APPS - Date.now()));
    const failed = (i + 1).toString(16).padStart(40, 'f');
    const res = await post({ client_payload: { app, failed_revision: failed, healthy_revision: 'a'.repeat(40) } });
    notifiedAt.set(app, Date.now());
    if (res.status !== 202) throw new Error(`incident: ${app} answered ${res.status}: ${await res.text()}`);
    ids.set(app, ((await res.json()) as { id: string }).id);
  }
  const lastNotified = Math.max(...notifiedAt.values());

  // Every rollback verified (or given up on), then the service's last reads answered.
  const verifiedAt = new Map<string, number>();
  const admin = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
  let lastSaid = 0;
  while (verifiedAt.size < INCIDENT_APPS && Date.now() - started < GIVE_UP_MS) {
    await sleep(2000);
    for (const [app, id] of ids) {
      if (verifiedAt.has(app) || !healthyAt.has(app)) continue;
      const event = (await (await fetch(`${url}/v1/events/${id}`, { headers: admin })).json()) as { outcome: string | null; outcome_history: Array<{ outcome: string; at: string }> };
      const verified = event.outcome === 'verified' ? event.outcome_history.find((h) => h.outcome === 'verified') : undefined;
      if (verified) verifiedAt.set(app, Date.parse(verified.at));
    }
    if (Date.now() - lastSaid > 30_000) {
      lastSaid = Date.now();
      say(`incident: ${github.accepted().length} dispatched, ${healthyAt.size} restored and reported Healthy, ${verifiedAt.size} verified after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  const seconds = (Date.now() - started) / 1000;
  for (const service of services) {
    service.child.kill('SIGTERM');
    await service.exited;
  }
  await Promise.allSettled([...pending]);
  await github.stop();

  const firstDispatch = new Map<string, number>();
  for (const d of github.received) {
    const app = String(d.body?.client_payload?.app);
    if (d.status === 204 && !firstDispatch.has(app)) firstDispatch.set(app, d.receivedAt);
  }
  const dispatchTimes = [...firstDispatch.values()].sort((a, b) => a - b);
  const late = dispatchTimes.filter((at, n) => at - lastNotified > (n + 1) * PACE_MS + 5000).length + (INCIDENT_APPS - dispatchTimes.length);
  const toDispatch = apps.filter((a) => firstDispatch.has(a)).map((a) => (firstDispatch.get(a)! - notifiedAt.get(a)!) / 1000);
  const toVerified = apps.filter((a) => verifiedAt.has(a)).map((a) => (verifiedAt.get(a)! - notifiedAt.get(a)!) / 1000);
  const reads: Record<string, number> = {};
  for (const read of github.reads) reads[readKind(read.path)] = (reads[readKind(read.path)] ?? 0) + 1 / INCIDENT_APPS;
  const rateLimited = github.secondaryLimited + [...github.reads, ...github.received].filter((r) => r.status === 429).length;
  return {
    apps: INCIDENT_APPS,
    store: options.databaseUrl.split(':')[0]!,
    replicas,
    dispatchSeconds: dispatchTimes.map((at) => (at - lastNotified) / 1000),
    notifyToDispatch: { p50: quantile(toDispatch, 0.5), p99: quantile(toDispatch, 0.99), last: Math.max(...toDispatch) },
    notifyToVerified: { p50: quantile(toVerified, 0.5), p99: quantile(toVerified, 0.99), last: Math.max(...toVerified) },
    verified: verifiedAt.size,
    late,
    dispatches: github.received.length,
    readsPerRollback: reads,
    readsPerRollbackTotal: github.reads.length / INCIDENT_APPS,
    rateLimited,
    seconds,
  };
}

/** The incident's targets (issue 36): each true when met. */
export function incidentTargets(result: IncidentResult): Record<string, boolean> {
  const name = `${result.store}${result.replicas > 1 ? `, ${result.replicas} replicas` : ''}`;
  return {
    [`incident (${name}): the N-th of ${result.apps} dispatched within N × ${PACE_MS / 1000} s + 5 s of the last notification (${result.late} late)`]: result.late === 0,
    [`incident (${name}): every rollback verified (${result.verified} of ${result.apps})`]: result.verified === result.apps,
    [`incident (${name}): no 403/429 from GitHub's secondary limits (${result.rateLimited})`]: result.rateLimited === 0,
    [`incident (${name}): at most 6 GitHub reads per rollback on its way to verified (${result.readsPerRollbackTotal.toFixed(2)})`]: result.readsPerRollbackTotal <= 6,
  };
}

export function printIncident(result: IncidentResult): void {
  const f = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
  console.log(`\nincident: ${result.apps} apps Degraded within 10 s, ${result.store}, ${result.replicas} replica${result.replicas > 1 ? 's' : ''}, defaults (a dispatch a second)`);
  console.log(`  notification → dispatch: p50 ${f(result.notifyToDispatch.p50)} s, p99 ${f(result.notifyToDispatch.p99)} s, last ${f(result.notifyToDispatch.last)} s`);
  console.log(`  notification → verified: p50 ${f(result.notifyToVerified.p50)} s, p99 ${f(result.notifyToVerified.p99)} s, last ${f(result.notifyToVerified.last)} s (${result.verified} of ${result.apps} verified)`);
  console.log(`  dispatches sent: ${result.dispatches}; GitHub reads per rollback: ${result.readsPerRollbackTotal.toFixed(2)} (${Object.entries(result.readsPerRollback).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}); rate-limit answers: ${result.rateLimited}`);
  const every = (n: number) => result.dispatchSeconds.filter((_, i) => (i + 1) % n === 0 || i === 0);
  console.log(`  dispatched after the last notification (s), every 10th: ${every(10).map((s) => s.toFixed(1)).join(', ')}`);
  for (const [target, ok] of Object.entries(incidentTargets(result))) console.log(`  ${ok ? 'met   ' : 'MISSED'} ${target}`);
}

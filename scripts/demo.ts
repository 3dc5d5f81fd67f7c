/**
 * npm run demo: the whole loop on one machine, no token or network needed. Starts a local stand-in for
 * GitHub (with a stand-in for GitHub Actions that runs the shipped workflow's script on a real local
 * git repository), a stand-in notification receiver, and the service on embedded SQLite
 * (./data/demo.db). Sends what Argo CD's shipped template sends for a Degraded app (the service works
 * out what to restore from the Application's sources: no route needed) and follows the rollback to its
 * outcome: dispatched → workflow run → restore commit → Argo CD reports Healthy → verified, printing each
 * step and every message the receiver got. Then keeps serving until Ctrl-C, with curls to try whose
 * revisions are the local repository's own; a stand-in for Argo CD syncs each rollback they start and
 * reports it Healthy, so each ends verified too (tests/e2e/demo.test.ts runs them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logger';
import { ListenError, startService } from '../src/service';
import { ActionsStandIn } from '../tests/support/actions-stand-in';
import { FakeGitHub } from '../tests/support/fake-github';
import { REV_7, REV_8, REV_9, singleSource, toStateBody } from '../tests/support/argocd-fixtures';
import { GitOpsRepo, PROD } from '../tests/support/gitops-repo';
import { NotifyReceiver } from '../tests/support/notify-receiver';

const GITHUB_TOKEN = 'demo-github-token-not-a-secret';
const WEBHOOK_TOKEN = 'demo-webhook-token-change-me';
const DB_PATH = './data/demo.db';

/**
 * Everything the demo writes outside ./data (the local GitOps repository, its template, the Actions
 * stand-in's clones) goes into one folder, removed however the demo ends: Ctrl-C, SIGTERM, a failed
 * start, an error. os.tmpdir() reads TMPDIR, so the test helpers it borrows use this folder too.
 */
const scratch = mkdtempSync(join(tmpdir(), 'gitops-rollback-demo-'));
process.env.TMPDIR = scratch;
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
/** Set once the service runs: a signal then stops it cleanly; before that a signal just exits. */
let stopDemo: (() => Promise<void>) | undefined;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    const stop = stopDemo;
    stopDemo = undefined;
    if (!stop) process.exit(130);
    void stop().finally(() => process.exit(0));
  });
}

interface EventBody {
  status?: string;
  outcome?: string | null;
  restore_commit?: string | null;
  outcome_history?: Array<{ at: string; outcome: string; reason: string; url: string | null }>;
}

async function main(): Promise<void> {
  const repo = new GitOpsRepo();
  const github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'], gitRepos: { 'acme/gitops': repo.origin } }).start();
  const actions = new ActionsStandIn(github, repo);
  const receiver = await new NotifyReceiver().start();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${DB_PATH}${suffix}`, { force: true });

  const config = loadConfig({
    REPO_OWNER: 'acme',
    REPO_NAME: 'gitops',
    GH_PAT_WEBHOOK: GITHUB_TOKEN,
    GITHUB_API_URL: github.url,
    WEBHOOK_TOKEN,
    HOST: '127.0.0.1',
    PORT: process.env.PORT ?? '8080',
    DATABASE_URL: `sqlite:${DB_PATH}`,
    // For notifications without the Application's sources (the curls below, shapes A and B).
    VALUES_PATHS: PROD,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    NOTIFY_URL: receiver.url,
    // Scaled down for the demo: look every 200 ms instead of every 10 s.
    OUTCOME_POLL_MS: '200',
    OUTCOME_POLL_MAX_MS: '400',
  });
  const service = await startService(config, createLogger(config.logLevel));
  stopDemo = async () => {
    console.log('\nStopping…');
    await service.stop();
    await Promise.all([github.stop(), receiver.stop()]);
  };
  const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };
  const eventOf = async (id: string) => (await (await fetch(`${service.url}/v1/events/${id}`, { headers: auth })).json()) as EventBody;
  const waitFor = async (id: string, done: (e: EventBody) => boolean): Promise<EventBody> => {
    for (let i = 0; i < 150; i++) {
      const event = await eventOf(id);
      if (done(event)) return event;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`event ${id} did not get there in 15 s`);
  };

  console.log(`\n1. Service listening on ${service.url} (SQLite ${DB_PATH}); stand-in GitHub on ${github.url};`);
  console.log(`   a local GitOps repository (bare) at ${repo.origin}, main = ${repo.mainHead().slice(0, 12)} (the bad release)\n`);
  // The fixture Application (a Helm source, charts/podinfo with values-prod.yaml), its history on the
  // local repository's real commits.
  const real: Record<string, string> = { [REV_7]: repo.commits.early, [REV_8]: repo.commits.healthy, [REV_9]: repo.commits.failed };
  const webhook = JSON.parse(JSON.stringify(toStateBody(singleSource())).replace(/[0-9a-f]{40}/g, (sha) => real[sha] ?? sha)) as unknown;
  console.log("2. Argo CD posts what the shipped template renders for the Degraded app (its sources included: what to restore comes from them):");
  console.log(`   POST ${service.url}/v1/webhooks/argocd\n${indent(JSON.stringify(webhook, null, 2))}`);
  const accepted = await fetch(`${service.url}/v1/webhooks/argocd`, {
    method: 'POST',
    headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify(webhook),
  });
  const answer = (await accepted.json()) as { id: string };
  console.log(`   → ${accepted.status} Location: ${accepted.headers.get('location')}\n${indent(JSON.stringify(answer))}\n`);

  await github.waitFor((g) => g.accepted().length > 0);
  const sent = github.accepted()[0]!;
  console.log('3. The dispatch GitHub receives:');
  console.log(`   POST /repos/${sent.owner}/${sent.repo}/dispatches`);
  for (const name of ['accept', 'x-github-api-version', 'authorization', 'user-agent', 'content-type']) {
    const value = name === 'authorization' ? 'Bearer [redacted]' : String(sent.headers[name]);
    console.log(`   ${name}: ${value}`);
  }
  console.log(`${indent(JSON.stringify(sent.body, null, 2))}\n   → 204 No Content\n`);

  await actions.settled();
  const run = github.runs[0]!;
  console.log(`4. GitHub Actions (stand-in) runs "${run.display_title}": the shipped workflow's script on the local repository:`);
  console.log(`${indent(actions.results.map((r) => r.stdout.trim()).join('\n'))}\n   run ${run.id}: ${run.status}, ${run.conclusion}\n`);

  const restored = await waitFor(answer.id, (e) => e.outcome === 'restored');
  console.log(`5. The service finds the run and the restore commit on GitHub: outcome ${restored.outcome}, restore commit ${restored.restore_commit}\n`);

  const head = restored.restore_commit ?? repo.mainHead();
  const report = { app: 'podinfo-prod', status: 'Healthy', revision: head };
  console.log(`6. Argo CD syncs ${head.slice(0, 12)} and reports it Healthy (what on-deployed-healthy sends):\n${indent(JSON.stringify(report))}`);
  const recorded = await fetch(`${service.url}/v1/webhooks/argocd`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(report) });
  console.log(`   → ${recorded.status} ${JSON.stringify(await recorded.json())}\n`);

  const verified = await waitFor(answer.id, (e) => e.outcome === 'verified');
  console.log(`7. The rollback's outcome (GET /v1/events/${answer.id}): ${verified.outcome}`);
  for (const entry of verified.outcome_history ?? []) console.log(`   ${entry.at}  ${entry.outcome.padEnd(12)} ${entry.reason}${entry.url ? ` (${entry.url})` : ''}`);

  await receiver.waitFor((r) => r.messages.length >= 2);
  console.log('\n8. What the notification receiver (a Slack-compatible stand-in) got:');
  for (const message of receiver.messages) console.log(`${indent(JSON.stringify(message))}`);
  console.log('');

  console.log(`9. Still serving. Open the status page: ${service.url}/ui/ and sign in with any name and the
   admin token ${WEBHOOK_TOKEN} (a demo value; ADMIN_TOKEN defaults to WEBHOOK_TOKEN).
   Or try (Ctrl-C to stop):

   # the seed contract (shape A): roll app shop back from the bad release to the early one
   curl -s -X POST ${service.url}/v1/webhooks/argocd \\
     -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"event_type":"argo-degraded","client_payload":{"app":"shop","failed_revision":"${repo.commits.failed}","healthy_revision":"${repo.commits.early}"}}'
   # a health report (shape B): Healthy feeds the ledger, Degraded rolls back to the newest healthy revision
   curl -s -X POST ${service.url}/ -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"app":"web","status":"Healthy","revision":"${repo.commits.early}"}'
   curl -s -X POST ${service.url}/ -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"app":"web","status":"Degraded","revision":"${repo.commits.failed}"}'
   curl -s ${service.url}/v1/apps/web -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/v1/events -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/v1/events/${answer.id} -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/readyz

   The stand-in Argo CD below syncs each restore commit and reports it Healthy, as yours would.
`);

  // Argo CD's part for the rollbacks the curls start: it syncs each restore commit and reports it Healthy,
  // so each one ends verified, as the first did.
  const reported = new Set<string>([answer.id]);
  setInterval(() => {
    void (async () => {
      const { events } = (await (await fetch(`${service.url}/v1/events?outcome=restored`, { headers: auth })).json()) as { events: Array<{ id: string; app: string; restore_commit: string | null }> };
      for (const event of events) {
        if (reported.has(event.id)) continue;
        reported.add(event.id);
        // A run that found nothing to change made no commit: Argo CD reports what main already is.
        const healthy = { app: event.app, status: 'Healthy', revision: event.restore_commit ?? repo.mainHead() };
        await fetch(`${service.url}/v1/webhooks/argocd`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(healthy) });
        console.log(`   (Argo CD stand-in) ${event.app} synced ${healthy.revision.slice(0, 12)} and reported it Healthy: rollback ${event.id} is verified`);
      }
    })().catch(() => undefined);
  }, 500);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}

main().catch((error: unknown) => {
  // A port in use is the newcomer's usual failure: one line with its remedy, no stack.
  if (error instanceof ListenError) console.error(`npm run demo: ${error.message} (PORT=${error.port + 1} npm run demo)`);
  else console.error(error);
  process.exit(1);
});

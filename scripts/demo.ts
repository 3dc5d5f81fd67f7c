/**
 * npm run demo: the whole relay on one machine, no token or network needed. Starts a local stand-in
 * for GitHub, starts the service on embedded SQLite (./data/demo.db), sends the seed's example webhook,
 * prints the exact dispatch GitHub would receive and the stored event, then keeps serving until Ctrl-C.
 */
import { rmSync } from 'node:fs';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logger';
import { startService } from '../src/service';
import { FakeGitHub } from '../tests/support/fake-github';

const GITHUB_TOKEN = 'demo-github-token-not-a-secret';
const WEBHOOK_TOKEN = 'demo-webhook-token-change-me';
const DB_PATH = './data/demo.db';

async function main(): Promise<void> {
  const github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'] }).start();
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
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  });
  const service = await startService(config, createLogger(config.logLevel));
  const auth = { Authorization: `Bearer ${WEBHOOK_TOKEN}` };

  console.log(`\n1. Service listening on ${service.url} (SQLite ${DB_PATH}); stand-in GitHub on ${github.url}\n`);
  const webhook = {
    event_type: 'argo-degraded',
    client_payload: {
      app: 'podinfo-prod',
      failed_revision: '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51',
      healthy_revision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2',
    },
  };
  console.log('2. Argo CD posts the seed example webhook:');
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

  let event: { status?: string } = {};
  for (let i = 0; i < 50 && event.status !== 'delivered'; i++) {
    const response = await fetch(`${service.url}/v1/events/${answer.id}`, { headers: auth });
    event = (await response.json()) as { status?: string };
    if (event.status !== 'delivered') await new Promise((r) => setTimeout(r, 20));
  }
  console.log(`4. The stored event (GET /v1/events/${answer.id}):\n${indent(JSON.stringify(event, null, 2))}\n`);

  console.log(`5. Still serving. Try (Ctrl-C to stop):

   curl -s -X POST ${service.url}/v1/webhooks/argocd \\
     -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"event_type":"argo-degraded","client_payload":{"app":"podinfo-prod","failed_revision":"a41d7c0","healthy_revision":"3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2"}}'
   # a health report (shape B): Healthy feeds the ledger, Degraded rolls back to the newest healthy revision
   curl -s -X POST ${service.url}/ -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"app":"web","status":"Healthy","revision":"3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2"}'
   curl -s -X POST ${service.url}/ -H 'Authorization: Bearer ${WEBHOOK_TOKEN}' -H 'Content-Type: application/json' \\
     -d '{"app":"web","status":"Degraded","revision":"9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51"}'
   curl -s ${service.url}/v1/apps/web -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/v1/events -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/v1/events/${answer.id} -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s -X POST ${service.url}/v1/events/${answer.id}/replay -H 'Authorization: Bearer ${WEBHOOK_TOKEN}'
   curl -s ${service.url}/readyz
`);

  const shutdown = () => {
    console.log('\nStopping…');
    void service
      .stop()
      .then(() => github.stop())
      .then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `   ${line}`)
    .join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

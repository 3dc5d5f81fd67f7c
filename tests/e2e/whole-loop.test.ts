import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionsStandIn } from '../support/actions-stand-in';
import { REV_7, REV_8, REV_9, healthyAt, singleSource, toStateBody, type Application } from '../support/argocd-fixtures';
import { loadNotificationsConfig, resolveSecrets, type WebhookService, type WebhookTemplate } from '../support/argocd-notifications';
import { FakeGitHub } from '../support/fake-github';
import { GitOpsRepo, PROD, git } from '../support/gitops-repo';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from '../support/harness';
import { serviceEnv, spawnService, type ServiceProcess } from '../support/service-process';
import { NotifyReceiver } from '../support/notify-receiver';
import { evaluate, loadWorkflow } from '../support/workflow-runner';

interface EventBody {
  outcome: string | null;
  restore_commit: string | null;
  verified_by: { revision: string } | null;
  outcome_history: Array<{ outcome: string; reason: string }>;
}

/** Polls GET /v1/events/{id} (bounded) until `done` holds. */
async function waitForEvent(base: string, id: string, done: (event: EventBody) => boolean, timeoutMs = 15_000): Promise<EventBody> {
  let last: EventBody | undefined;
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    last = (await (await fetch(`${base}/v1/events/${id}`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as EventBody;
    if (done(last)) return last;
  }
  throw new Error(`event ${id} not done within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/**
 * The whole loop on one machine: the fixture Application goes Degraded → the body the shipped degraded
 * template renders (toStateBody; scripts/argocd-real.ts proves the real engine renders exactly that) → POST with the shipped ConfigMap's headers → the built service → the fake GitHub →
 * the shipped workflow's script in a clone of a local bare GitOps repository → main has the healthy
 * values again.
 */
describe('the whole rollback loop', () => {
  let repo: GitOpsRepo;
  let github: FakeGitHub;
  let actions: ActionsStandIn;
  let receiver: NotifyReceiver;
  let service: ServiceProcess | undefined;

  beforeEach(async () => {
    repo = new GitOpsRepo();
    github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'], gitRepos: { 'acme/gitops': repo.origin } }).start();
    actions = new ActionsStandIn(github, repo);
    receiver = await new NotifyReceiver().start();
  });

  afterEach(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await actions.settled();
    await receiver.stop();
    await github.stop();
    repo.remove();
  });

  /** The fixture Application, its history pointing at the real commits of the local GitOps repo. */
  function degradedApplication(): Application {
    const app = singleSource();
    const real: Record<string, string> = { [REV_7]: repo.commits.early, [REV_8]: repo.commits.healthy, [REV_9]: repo.commits.failed };
    const text = JSON.stringify(app).replace(/[0-9a-f]{40}/g, (sha) => real[sha] ?? sha);
    return JSON.parse(text) as Application;
  }

  it('when the app goes Degraded, then main gets the healthy values back, Argo CD reports Healthy at the restore commit, the rollback is verified and people are told', async () => {
    const routes = join(repo.root, 'routes.yaml');
    writeFileSync(routes, `routes:\n  - app: podinfo-prod\n    values_paths: [${PROD}]\n`);
    service = await spawnService(
      serviceEnv(github.url, `sqlite:${join(repo.root, 'rollback.db')}`, { ROUTES_FILE: routes, NOTIFY_URL: receiver.url, OUTCOME_POLL_MS: '50', OUTCOME_POLL_MAX_MS: '200' }),
      repo.root,
    );

    const config = loadNotificationsConfig();
    const serviceConfig = config['service.webhook.gitops-rollback'] as WebhookService;
    const template = (config['template.gitops-rollback-degraded'] as WebhookTemplate).webhook['gitops-rollback']!;
    const secrets = { 'gitops-rollback-token': WEBHOOK_TOKEN };
    // Argo CD sends to the configured URL; here the path is kept and the host is the spawned service.
    const url = `${service.url}${new URL(serviceConfig.url).pathname}`;
    const headers = Object.fromEntries(serviceConfig.headers.map((h) => [h.name, resolveSecrets(h.value, secrets)]));

    const notify = () =>
      fetch(url, { method: template.method, headers, body: JSON.stringify(toStateBody(degradedApplication())) });

    expect(repo.show(PROD)).not.toBe(repo.show(PROD, repo.commits.healthy));
    const first = await notify();
    expect(first.status).toBe(202);
    const accepted = (await first.json()) as { id: string; healthy_revision: string; target_reason: string };
    expect(accepted).toMatchObject({ healthy_revision: repo.commits.healthy, target_reason: 'from history id 8' });

    await github.waitFor((g) => g.accepted().length === 1);
    await actions.settled();
    expect(actions.results).toEqual([expect.objectContaining({ triggered: true, status: 0, stdout: expect.stringMatching(/restore-values: pushed/) })]);
    expect(repo.show(PROD)).toBe(repo.show(PROD, repo.commits.healthy));
    const head = repo.mainHead();
    expect(git(repo.origin, 'log', '-1', '--format=%B', 'main')).toContain(`Failed-Revision: ${repo.commits.failed}`);
    // Traceable: the run's title and the restore commit both carry the event id the service answered.
    expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main')).toContain(`Rollback-App: podinfo-prod\nRollback-Event: ${accepted.id}`);
    const dispatchId = String(github.accepted()[0]!.body?.client_payload?.dispatch_id);
    expect(dispatchId).toMatch(/^[0-9a-f-]{36}$/);
    expect(evaluate(loadWorkflow()['run-name'], github.accepted()[0]!.body ?? {})).toBe(`Roll back podinfo-prod (event ${accepted.id}, dispatch ${dispatchId})`);

    const second = await notify();
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ status: 'duplicate', id: accepted.id });
    expect(github.received).toHaveLength(1);
    expect(repo.mainHead()).toBe(head);

    // Argo CD syncs the restore commit and reports it Healthy (the deployed template's body).
    const healthyState = toStateBody(healthyAt(head));
    const report = await fetch(url, { method: 'POST', headers, body: JSON.stringify(healthyState) });
    expect(await report.json()).toMatchObject({ status: 'recorded', revision: head });
    const event = await waitForEvent(service.url, accepted.id, (e) => e.outcome === 'verified');
    expect(event).toMatchObject({ outcome: 'verified', restore_commit: head, verified_by: { revision: head } });
    expect(event.outcome_history.map((e) => e.outcome)).toEqual(['awaiting_run', 'restoring', 'restored', 'verified']);
    await receiver.waitFor((r) => r.messages.length === 2);
    expect(receiver.texts()[1]).toMatch(new RegExp(`^podinfo-prod: rollback verified: Healthy again \\(${repo.commits.failed.slice(0, 12)} → ${repo.commits.healthy.slice(0, 12)}\\)\\nArgo CD reported the app Healthy at ${head.slice(0, 12)}`));
    expect(service.lines.join('\n')).not.toContain(GITHUB_TOKEN);
    expect(service.lines.join('\n')).not.toContain(WEBHOOK_TOKEN);
    expect(service.lines.join('\n')).not.toContain(receiver.url);
  });
});

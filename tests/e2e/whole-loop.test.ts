import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REV_7, REV_8, REV_9, singleSource, toStateBody, type Application } from '../support/argocd-fixtures';
import { loadNotificationsConfig, resolveSecrets, type WebhookService, type WebhookTemplate } from '../support/argocd-notifications';
import { FakeGitHub } from '../support/fake-github';
import { GitOpsRepo, PROD, git } from '../support/gitops-repo';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from '../support/harness';
import { serviceEnv, spawnService, type ServiceProcess } from '../support/service-process';
import { evaluate, loadWorkflow, runWorkflow, type WorkflowRun } from '../support/workflow-runner';

/**
 * The whole loop on one machine: the fixture Application goes Degraded → the body the shipped degraded
 * template renders (toStateBody; scripts/argocd-real.ts proves the real engine renders exactly that) → POST with the shipped ConfigMap's headers → the built service → the fake GitHub →
 * the shipped workflow's script in a clone of a local bare GitOps repository → main has the healthy
 * values again.
 */
describe('the whole rollback loop', () => {
  let repo: GitOpsRepo;
  let github: FakeGitHub;
  let service: ServiceProcess | undefined;
  const runs: WorkflowRun[] = [];

  beforeEach(async () => {
    repo = new GitOpsRepo();
    github = await new FakeGitHub({ token: GITHUB_TOKEN, repos: ['acme/gitops'] }).start();
    github.onAccepted = (dispatch) => {
      runs.push(runWorkflow(dispatch.body ?? {}, repo.clone()));
    };
  });

  afterEach(async () => {
    if (service && service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    runs.length = 0;
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

  it('when the app goes Degraded, then main gets the healthy values back, and a second notification changes nothing', async () => {
    const routes = join(repo.root, 'routes.yaml');
    writeFileSync(routes, `routes:\n  - app: podinfo-prod\n    values_paths: [${PROD}]\n`);
    service = await spawnService(serviceEnv(github.url, `sqlite:${join(repo.root, 'rollback.db')}`, { ROUTES_FILE: routes }), repo.root);

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
    expect(runs).toEqual([expect.objectContaining({ triggered: true, status: 0, stdout: expect.stringMatching(/restore-values: pushed/) })]);
    expect(repo.show(PROD)).toBe(repo.show(PROD, repo.commits.healthy));
    const head = repo.mainHead();
    expect(git(repo.origin, 'log', '-1', '--format=%B', 'main')).toContain(`Failed-Revision: ${repo.commits.failed}`);
    // Traceable: the run's title and the restore commit both carry the event id the service answered.
    expect(git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main')).toContain(`Rollback-App: podinfo-prod\nRollback-Event: ${accepted.id}`);
    expect(evaluate(loadWorkflow()['run-name'], github.accepted()[0]!.body ?? {})).toBe(`Roll back podinfo-prod (event ${accepted.id})`);

    const second = await notify();
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ status: 'duplicate', id: accepted.id });
    expect(github.received).toHaveLength(1);
    expect(repo.mainHead()).toBe(head);
    expect(service.lines.join('\n')).not.toContain(GITHUB_TOKEN);
    expect(service.lines.join('\n')).not.toContain(WEBHOOK_TOKEN);
  });
});

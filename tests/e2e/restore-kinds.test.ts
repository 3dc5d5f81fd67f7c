import { join } from 'node:path';
import { ActionsStandIn } from '../support/actions-stand-in';
import { KIND_APPS, REV_7, REV_8, REV_9, toStateBody, type Application } from '../support/argocd-fixtures';
import { loadNotificationsConfig, resolveSecrets, type WebhookService, type WebhookTemplate } from '../support/argocd-notifications';
import { FakeGitHub } from '../support/fake-github';
import { COMMON, DIRECTORY_ADDED, DIRECTORY_DIR, GitOpsRepo, KUSTOMIZATION, KUSTOMIZE_DIR, PROD, WRITE_BACK, git } from '../support/gitops-repo';
import { GITHUB_TOKEN, WEBHOOK_TOKEN } from '../support/harness';
import { NotifyReceiver } from '../support/notify-receiver';
import { serviceEnv, spawnService, type ServiceProcess } from '../support/service-process';

interface Accepted {
  id: string;
  restore: Array<{ id: string; repository: string; from: string; paths: string[] }>;
}

/**
 * Issue 20 through the whole loop, one app per kind Argo CD renders from, with no route and no
 * VALUES_PATHS: the body the shipped degraded template renders for the Application (toStateBody; the
 * real engine renders exactly that, npm run test:argocd-real) → the built service works out what to
 * restore → the fake GitHub → the shipped workflow's script on real git → main (of the right
 * repository) renders what it rendered when healthy.
 */
describe('rolling back each kind of Argo CD app from what the Application says', () => {
  let gitops: GitOpsRepo;
  let values: GitOpsRepo;
  let github: FakeGitHub;
  let actions: ActionsStandIn;
  let receiver: NotifyReceiver;
  let service: ServiceProcess;

  beforeEach(async () => {
    gitops = new GitOpsRepo();
    values = new GitOpsRepo();
    github = await new FakeGitHub({
      token: GITHUB_TOKEN,
      repos: ['acme/gitops', 'acme/helm-values'],
      gitRepos: { 'acme/gitops': gitops.origin, 'acme/helm-values': values.origin },
    }).start();
    actions = new ActionsStandIn(github, { 'acme/gitops': gitops, 'acme/helm-values': values });
    receiver = await new NotifyReceiver().start();
    service = await spawnService(serviceEnv(github.url, `sqlite:${join(gitops.root, 'rollback.db')}`, { NOTIFY_URL: receiver.url, OUTCOME_POLL_MS: '50', OUTCOME_POLL_MAX_MS: '200' }), gitops.root);
  });

  afterEach(async () => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    await actions.settled();
    await receiver.stop();
    await github.stop();
    gitops.remove();
    values.remove();
  });

  /** The fixture's revisions replaced by the real commits of the local repositories (both hold the same history). */
  function real(app: Application): Application {
    const map: Record<string, string> = { [REV_7]: gitops.commits.early, [REV_8]: gitops.commits.healthy, [REV_9]: gitops.commits.failed };
    return JSON.parse(JSON.stringify(app).replace(/[0-9a-f]{40}/g, (sha) => map[sha] ?? sha)) as Application;
  }

  /** POSTs the app's Degraded state as Argo CD would, with the shipped ConfigMap's headers and method. */
  async function degraded(app: Application): Promise<Response> {
    const config = loadNotificationsConfig();
    const serviceConfig = config['service.webhook.gitops-rollback'] as WebhookService;
    const template = (config['template.gitops-rollback-degraded'] as WebhookTemplate).webhook['gitops-rollback']!;
    const headers = Object.fromEntries(serviceConfig.headers.map((h) => [h.name, resolveSecrets(h.value, { 'gitops-rollback-token': WEBHOOK_TOKEN })]));
    return fetch(`${service.url}${new URL(serviceConfig.url).pathname}`, { method: template.method, headers, body: JSON.stringify(toStateBody(real(app))) });
  }

  async function rolledBack(app: Application, expected: Accepted['restore'][number]): Promise<{ accepted: Accepted; event: Record<string, unknown> }> {
    const res = await degraded(app);
    const accepted = (await res.json()) as Accepted;
    expect(res.status).toBe(202);
    expect(accepted.restore).toEqual([{ ...expected, id: accepted.id }]);
    await github.waitFor((g) => g.accepted().length === 1);
    await actions.settled();
    expect(actions.results).toEqual([expect.objectContaining({ status: 0, stdout: expect.stringMatching(/restore-values: pushed/) })]);
    const dispatch = github.accepted()[0]!;
    expect(`${dispatch.owner}/${dispatch.repo}`).toBe(expected.repository);
    expect(dispatch.schemaErrors).toEqual([]);
    expect(dispatch.body?.client_payload).toMatchObject({ restore_paths: expected.paths.join('\n'), event_id: accepted.id });
    const event = (await (await fetch(`${service.url}/v1/events/${accepted.id}`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as Record<string, unknown>;
    return { accepted, event };
  }

  const trailers = (repo: GitOpsRepo) => git(repo.origin, 'log', '-1', '--format=%(trailers:only,unfold)', 'main');

  it('when a Kustomize app degrades after its image tag changed, then its whole path is restored (the tag and the write-back file the bad commit added)', async () => {
    const { event } = await rolledBack(KIND_APPS.kustomize(), { id: '', repository: 'acme/gitops', from: 'application', paths: [KUSTOMIZE_DIR] });
    expect(gitops.show(KUSTOMIZATION)).toContain('newTag: "1.1.0"');
    expect(gitops.files(KUSTOMIZE_DIR)).toEqual(gitops.files(KUSTOMIZE_DIR, gitops.commits.healthy));
    expect(trailers(gitops)).toContain(`Restored-Path: ${KUSTOMIZE_DIR}`);
    expect(event.restore).toEqual({ from: 'application', paths: [{ path: KUSTOMIZE_DIR, why: expect.stringMatching(/^the whole path of source 0 .* \(Kustomize\)$/) }], notes: [], other_events: [] });
  });

  it('when a directory app degrades after a commit that changed one manifest and added another, then both are undone', async () => {
    await rolledBack(KIND_APPS.directory(), { id: '', repository: 'acme/gitops', from: 'application', paths: [DIRECTORY_DIR] });
    expect(gitops.files(DIRECTORY_DIR)).not.toContain(DIRECTORY_ADDED);
    expect(gitops.show(`${DIRECTORY_DIR}/deployment.yaml`)).toContain('replicas: 2');
    expect(gitops.show(PROD)).toBe(gitops.show(PROD, gitops.commits.failed)); // nothing of the other apps
  });

  it('when a Helm app with two value files degrades, then both value files are restored, each with its reason', async () => {
    const paths = ['charts/podinfo/values-common.yaml', PROD, 'charts/podinfo/.argocd-source-podinfo-two.yaml'];
    const { event } = await rolledBack(KIND_APPS.helmTwoValueFiles(), { id: '', repository: 'acme/gitops', from: 'application', paths });
    expect(gitops.show(PROD)).toBe(gitops.show(PROD, gitops.commits.healthy));
    expect(gitops.show(COMMON)).toBe(gitops.show(COMMON, gitops.commits.healthy));
    expect((event.restore as { paths: Array<{ why: string }> }).paths.map((p) => p.why)).toEqual([
      expect.stringMatching(/^Helm value file values-common\.yaml of source 0/),
      expect.stringMatching(/^Helm value file values-prod\.yaml of source 0/),
      expect.stringMatching(/^Argo CD Image Updater's write-back file of source 0/),
    ]);
  });

  it("when Image Updater's write-back file broke a Helm app, then it is restored with the value file", async () => {
    await rolledBack(KIND_APPS.imageUpdater(), { id: '', repository: 'acme/gitops', from: 'application', paths: [PROD, WRITE_BACK] });
    expect(gitops.show(WRITE_BACK)).toContain('value: "6.9.1"');
    expect(trailers(gitops)).toContain(`Restored-Path: ${PROD}\nRestored-Path: ${WRITE_BACK}`);
  });

  it('when a multi-source app reads $values from a second repository, then the dispatch goes to that repository and restores the file there', async () => {
    const gitopsHead = gitops.mainHead();
    const { accepted } = await rolledBack(KIND_APPS.valuesElsewhere(), { id: '', repository: 'acme/helm-values', from: 'application', paths: [PROD] });
    expect(values.show(PROD)).toBe(values.show(PROD, values.commits.healthy));
    expect(gitops.mainHead()).toBe(gitopsHead);
    // The outcome is followed in that repository too: its run and its restore commit are found there.
    const restoreCommit = values.mainHead();
    for (const deadline = Date.now() + 15_000; ; await new Promise((r) => setTimeout(r, 50))) {
      const event = (await (await fetch(`${service.url}/v1/events/${accepted.id}`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as { outcome: string | null; restore_commit: string | null; restore_url: string | null };
      if (event.outcome === 'restored' || Date.now() > deadline) {
        expect(event).toMatchObject({ outcome: 'restored', restore_commit: restoreCommit, restore_url: expect.stringContaining('/acme/helm-values/commit/') });
        break;
      }
    }
  });

  it.each([
    ['only the chart version moved (multi-source)', KIND_APPS.chartBump, /^only the chart version changed: podinfo 6\.9\.0 → 6\.9\.1/],
    ['the app is one chart from a chart repository', KIND_APPS.chartOnly, /^the app renders the Helm chart podinfo 6\.9\.1 from the chart repository/],
  ])('when %s, then 200 not_restorable, a person is told, and nothing is dispatched', async (_name, app, reason) => {
    const res = await degraded(app());
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'not_restorable', message: expect.stringMatching(reason) });
    await receiver.waitFor((r) => r.messages.length === 1);
    expect(receiver.texts()[0]).toMatch(/: rollback needs a person: nothing in git can undo this/);
    // Argo CD's two degraded triggers both send: the second is answered alike, and nobody is told twice.
    expect((await degraded(app())).status).toBe(200);
    const events = (await (await fetch(`${service.url}/v1/events`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as { events: unknown[] };
    expect(events.events).toEqual([]);
    expect(github.received).toEqual([]);
    // Sent or waiting, a second message would show: the outbox is empty and one message arrived.
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).text();
    expect(metrics).toMatch(/^rollback_notifications_pending 0$/m);
    expect(receiver.messages).toHaveLength(1);
    // Refused, and visible as such: once (the re-send adds nothing), with why.
    const name = (app() as { metadata: { name: string } }).metadata.name;
    const one = (await (await fetch(`${service.url}/v1/apps/${encodeURIComponent(name)}`, { headers: { Authorization: `Bearer ${WEBHOOK_TOKEN}` } })).json()) as { degraded_without_rollback: Array<{ reason: string }>; known_failed: unknown[] };
    expect(one.degraded_without_rollback).toEqual([expect.objectContaining({ reason: expect.stringMatching(reason) })]);
    // Not the git revision's fault: it is not counted as failed.
    expect(one.known_failed).toEqual([]);
  });
});

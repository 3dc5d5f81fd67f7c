import { buildDispatchBody } from '../../src/domain/dispatch-body';
import { GitOpsRepo, git } from '../support/gitops-repo';
import { evaluate, loadWorkflow, runWorkflowAsync, type DispatchBody, type WorkflowRun } from '../support/workflow-runner';

/**
 * GitHub's concurrency rule for workflow runs (docs: "Control the concurrency of workflows and jobs"):
 * per group at most one run is running and one is pending; when a run is queued while another is
 * pending, the pending one is cancelled. Runs of different groups run at the same time.
 */
class GitHubConcurrency {
  readonly started: string[] = [];
  readonly cancelled: string[] = [];
  readonly runs = new Map<string, WorkflowRun>();
  private readonly groups = new Map<string, { running: boolean; pending?: { id: string; start: () => Promise<WorkflowRun> } }>();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly groupOf: (body: DispatchBody) => string) {}

  queue(id: string, body: DispatchBody, start: () => Promise<WorkflowRun>): void {
    const name = this.groupOf(body);
    const group = this.groups.get(name) ?? { running: false };
    this.groups.set(name, group);
    if (!group.running) {
      this.launch(group, id, start);
      return;
    }
    if (group.pending) this.cancelled.push(group.pending.id);
    group.pending = { id, start };
  }

  private launch(group: { running: boolean; pending?: { id: string; start: () => Promise<WorkflowRun> } }, id: string, start: () => Promise<WorkflowRun>): void {
    group.running = true;
    this.started.push(id);
    const done: Promise<void> = start().then((run) => {
      this.runs.set(id, run);
      group.running = false;
      const next = group.pending;
      group.pending = undefined;
      if (next) this.launch(group, next.id, next.start);
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
  }

  /** Resolves when no run is running or pending. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}

const APPS = ['podinfo', 'checkout', 'payments', 'search'];
const valuesOf = (app: string) => `charts/${app}/values.yaml`;

describe('the shipped workflow under GitHub concurrency rules, on real git', () => {
  let repo: GitOpsRepo;
  let healthy: string;
  let failed: string;

  beforeEach(() => {
    repo = new GitOpsRepo();
    const seed = repo.clone('apps-seed');
    repo.write(seed, Object.fromEntries(APPS.map((app) => [valuesOf(app), `image: ${app}:1.0.0\n`])));
    healthy = repo.commit(seed, 'four apps, healthy');
    repo.write(seed, Object.fromEntries(APPS.map((app) => [valuesOf(app), `image: ${app}:9.9.9-broken\n`])));
    failed = repo.commit(seed, 'four apps, broken');
    git(seed, 'push', '--quiet', 'origin', 'main');
  });
  afterEach(() => repo.remove());

  /** The dispatch the webhook sends for one app (the service's own body builder). */
  const dispatch = (app: string, eventId: string): DispatchBody =>
    buildDispatchBody({ eventType: 'argo-degraded', app, failedRevision: failed, healthyRevision: healthy, eventId, extras: { values_paths: valuesOf(app) } });

  /**
   * A burst inside one run's time: all four apps degrade, and podinfo is dispatched twice more (a
   * second failure, a re-sent request). Every dispatch is queued before the first run ends.
   */
  async function burst(groupOf: (body: DispatchBody) => string): Promise<GitHubConcurrency> {
    const github = new GitHubConcurrency(groupOf);
    const order: Array<[string, string]> = [
      ['e1', 'podinfo'],
      ['e2', 'checkout'],
      ['e3', 'podinfo'],
      ['e4', 'payments'],
      ['e5', 'podinfo'],
      ['e6', 'search'],
    ];
    for (const [id, app] of order) {
      const body = dispatch(app, id);
      // actions/checkout runs when the job starts, so each run clones main as it is then.
      github.queue(id, body, () => runWorkflowAsync(body, repo.clone()));
    }
    await github.settled();
    return github;
  }

  const restored = (app: string) => repo.show(valuesOf(app)) === `image: ${app}:1.0.0`;

  it('when four apps degrade within one run, then with the shipped per-app groups every app is restored; only a newer podinfo rollback replaced an older pending one', async () => {
    const workflow = loadWorkflow();
    const github = await burst((body) => evaluate(workflow.concurrency.group, body));

    expect(github.cancelled).toEqual(['e3']);
    expect([...github.runs.values()].map((r) => r.status)).toEqual([0, 0, 0, 0, 0]);
    for (const app of APPS) expect({ app, restored: restored(app) }).toEqual({ app, restored: true });
    // Four parallel runs pushed to one main: each restore is its own commit, rebased over the others.
    const subjects = git(repo.origin, 'log', '--format=%s', `${failed}..main`).split('\n');
    expect(subjects.sort()).toEqual(APPS.map((app) => `Roll back ${app} to ${healthy.slice(0, 12)}`).sort());
    const events = git(repo.origin, 'log', '--format=%(trailers:key=Rollback-Event,valueonly)', `${failed}..main`).split('\n').filter(Boolean);
    expect(events.sort()).toEqual(['e1', 'e2', 'e4', 'e6']);
  });

  it('when the same burst meets the earlier single group (gitops-rollback), then the middle rollbacks are cancelled and two apps stay broken', async () => {
    const github = await burst(() => 'gitops-rollback');

    expect(github.cancelled).toEqual(['e2', 'e3', 'e4', 'e5']);
    expect(github.started).toEqual(['e1', 'e6']);
    expect(APPS.filter(restored).sort()).toEqual(['podinfo', 'search']);
  });
});

import type { FakeGitHub, FakeRun, ReceivedDispatch } from './fake-github';
import type { GitOpsRepo } from './gitops-repo';
import { evaluate, loadWorkflow, runWorkflowAsync, type WorkflowContext, type WorkflowRun } from './workflow-runner';

/** What GitHub Actions does with the next accepted dispatch. */
export type RunPlan = 'run' | 'cancel' | 'fail' | 'none';

/**
 * Stands in for GitHub Actions behind the fake GitHub: for each accepted dispatch it records a run
 * titled by the shipped workflow's run-name, then (plan 'run', the default) runs the shipped workflow's
 * script in a fresh clone of the local GitOps repository and completes the run success or failure by
 * its exit code. 'cancel' completes the run cancelled, 'fail' completes it failure without running,
 * 'none' records no run at all (workflow not installed).
 */
export class ActionsStandIn {
  readonly plan: RunPlan[] = [];
  readonly results: WorkflowRun[] = [];
  private readonly pending = new Set<Promise<void>>();

  /** `repo`: the GitOps repository every dispatch runs in, or one per "owner/repo" dispatched to. */
  constructor(
    private readonly github: FakeGitHub,
    private readonly repo: GitOpsRepo | Record<string, GitOpsRepo>,
    private readonly context: WorkflowContext = {},
  ) {
    github.onAccepted = (dispatch) => this.start(dispatch);
  }

  private start(dispatch: ReceivedDispatch): void {
    const mode = this.plan.shift() ?? 'run';
    if (mode === 'none' || !dispatch.body) return;
    const body = dispatch.body;
    const run: FakeRun = this.github.addRun(evaluate(loadWorkflow()['run-name'], body, this.context));
    if (mode === 'cancel' || mode === 'fail') {
      this.github.updateRun(run, 'completed', mode === 'cancel' ? 'cancelled' : 'failure');
      return;
    }
    const job = (async () => {
      this.github.updateRun(run, 'in_progress');
      const repo = 'clone' in this.repo ? (this.repo as GitOpsRepo) : this.repo[`${dispatch.owner}/${dispatch.repo}`];
      if (!repo) throw new Error(`no GitOps repository for ${dispatch.owner}/${dispatch.repo}`);
      const result = await runWorkflowAsync(body, repo.clone(), { repository: `${dispatch.owner}/${dispatch.repo}`, ...this.context });
      this.results.push(result);
      this.github.updateRun(run, 'completed', result.status === 0 ? 'success' : 'failure');
    })();
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Resolves when every started run has completed. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

import type { FakeGitHub, FakeRun, ReceivedDispatch } from './fake-github';
import type { GitOpsRepo } from './gitops-repo';
import { evaluate, loadWorkflow, runWorkflowAsync, type WorkflowContext, type WorkflowRun } from './workflow-runner';

/** The shipped workflow's step that runs restore-values.sh (deploy/github/rollback.yml). */
const RESTORE_STEP = 'Restore what the app renders from as of the healthy revision';

/** What GitHub Actions does with the next accepted dispatch. */
export type RunPlan = 'run' | 'cancel' | 'fail' | 'none';

/**
 * Stands in for GitHub Actions behind the fake GitHub: for each accepted dispatch it records a run
 * titled by the shipped workflow's run-name, then (plan 'run', the default) runs the shipped workflow's
 * script in a fresh clone of the local GitOps repository and completes the run success or failure by
 * its exit code (a failure with a job whose failed step's log is the script's output). 'cancel' completes
 * the run cancelled, 'fail' completes it failure without running, as a repository without the script,
 * 'none' records no run at all (workflow not installed).
 */
export class ActionsStandIn {
  readonly plan: RunPlan[] = [];
  /** The failed job's log of plan 'fail': by default, as a GitOps repository without the restore script fails (bash's line, then GitHub's). */
  failLog = 'bash: deploy/github/restore-values.sh: No such file or directory\n##[error]Process completed with exit code 127.';
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
    if (mode === 'cancel') {
      this.github.updateRun(run, 'completed', 'cancelled');
      return;
    }
    if (mode === 'fail') {
      this.github.failRun(run, { step: RESTORE_STEP, log: this.failLog });
      return;
    }
    const job = (async () => {
      this.github.updateRun(run, 'in_progress');
      const repo = 'clone' in this.repo ? (this.repo as GitOpsRepo) : this.repo[`${dispatch.owner}/${dispatch.repo}`];
      if (!repo) throw new Error(`no GitOps repository for ${dispatch.owner}/${dispatch.repo}`);
      const result = await runWorkflowAsync(body, repo.clone(), { repository: `${dispatch.owner}/${dispatch.repo}`, ...this.context });
      this.results.push(result);
      if (result.status === 0) this.github.updateRun(run, 'completed', 'success');
      // The job's log is what the script printed, then GitHub's closing line.
      else this.github.failRun(run, { step: RESTORE_STEP, log: `${result.stdout}${result.stderr}##[error]Process completed with exit code ${result.status ?? 1}.` });
    })();
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Resolves when every started run has completed. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }
}

/**
 * What became of a delivered rollback, as a pure function of what is known about it and what GitHub
 * and Argo CD said this time. Outcomes only move forward:
 *   awaiting_run → restoring → restored → verified, or a dead end (run_missing, restore_failed,
 *   unverified), each with a human reason.
 */
import { describeFailedStep, missingWorkflowCause, type FailedStep, type WorkflowView } from './restore-failure';
import { FINAL_OUTCOMES, type Outcome } from './rollback-event';

export interface OutcomeState {
  outcome: Outcome;
  /** When GitHub accepted the (latest) dispatch. */
  deliveredAt: number;
  runId: string | null;
  /** The last look (the service's clock) that saw the run not yet completed. */
  runSeenOpenAt: number | null;
  /**
   * When the run ended, as a lower bound on the service's clock: the last look that saw it running, else the
   * delivery. Never GitHub's updated_at, which is on GitHub's clock, not on the clock of the reports it is
   * compared with.
   */
  runEndedAt: number | null;
  /** Runs concluded cancelled that were dispatched again; the lookup skips them. */
  cancelledRuns: readonly string[];
  redispatches: number;
  restoreCommit: string | null;
  pullRequestUrl: string | null;
  pollMs: number;
}

/** A workflow run as GitHub lists it (GET /repos/{owner}/{repo}/actions/runs). */
export interface RunView {
  id: string;
  status: string;
  conclusion: string | null;
  url: string;
  updatedAt: number;
}

export interface Observations {
  now: number;
  /** The newest run whose title carries the event id and that was not cancelled-and-redispatched. */
  run?: RunView;
  /** The commit on the branch whose message has `Rollback-Event: <id>`. */
  commit?: { sha: string; url: string };
  /** Pull-request mode: the pull request from gitops-rollback/<id>. */
  pullRequest?: { url: string; state: string; mergedAt: number | null; mergeCommit: string | null };
  /** A Healthy report that verifies the restore (see healthyReportQuery). */
  healthyReport?: { id: string; revision: string; reportedAt: number };
  /** A failed run's failed job and step, and the error line of its log (src/domain/restore-failure.ts). */
  failedStep?: FailedStep;
  /** The repository's workflows, read when no run appeared in time (to name a missing workflow file). */
  workflows?: WorkflowView[];
  /** The last GitHub problem while looking (kept for the reason of a dead end). */
  githubProblem?: string;
}

export interface OutcomeLimits {
  runLookupMs: number;
  verifyTimeoutMs: number;
  maxRedispatch: number;
  pollMs: number;
  pollMaxMs: number;
  branch: string;
  eventType: string;
}

/** Outcomes that need a person, plus verified: each is notified once, when it is reached. */
export const NOTIFIED_OUTCOMES: readonly Outcome[] = ['run_missing', 'restore_failed', 'unverified', 'verified'];

export interface OutcomeChange {
  outcome: Outcome;
  reason: string;
  url: string | null;
}

export interface OutcomeDecision {
  /** The history entries this look adds, in order (a change of outcome, or a note such as a re-dispatch). */
  changes: OutcomeChange[];
  state: Omit<OutcomeState, 'cancelledRuns'> & { cancelledRuns: string[]; runUrl?: string; restoreUrl?: string; verifiedReportId?: string };
  /** Put the event back on the delivery queue (a cancelled run, within RESTORE_MAX_REDISPATCH). */
  redispatch: boolean;
  /** When to look again; null when the outcome is final or a re-dispatch is pending. */
  nextCheckAt: number | null;
}

const short = (sha: string) => sha.slice(0, 12);
const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const FINAL: readonly Outcome[] = FINAL_OUTCOMES;

/** Where to look for the Healthy report that verifies a restore. */
export function healthyReportQuery(state: Pick<OutcomeState, 'restoreCommit' | 'runEndedAt' | 'deliveredAt'>): { revision: string } | { after: number } {
  // Nothing had to change: any Healthy report after the run ended shows the app back to health.
  return state.restoreCommit ? { revision: state.restoreCommit } : { after: state.runEndedAt ?? state.deliveredAt };
}

export function decideOutcome(previous: OutcomeState, seen: Observations, limits: OutcomeLimits): OutcomeDecision {
  const state: OutcomeDecision['state'] = { ...previous, cancelledRuns: [...previous.cancelledRuns] };
  const changes: OutcomeChange[] = [];
  let redispatch = false;
  const move = (outcome: Outcome, reason: string, url: string | null = null) => {
    changes.push({ outcome, reason, url });
    state.outcome = outcome;
  };
  const note = (reason: string, url: string | null = null) => changes.push({ outcome: state.outcome, reason, url });
  const age = seen.now - previous.deliveredAt;
  const problem = seen.githubProblem ? ` (last GitHub answer: ${seen.githubProblem})` : '';

  if (state.outcome === 'awaiting_run' || state.outcome === 'restoring') {
    const run = seen.run;
    if (run && run.id !== state.runId) {
      state.runId = run.id;
      state.runUrl = run.url;
      if (state.outcome === 'awaiting_run') move('restoring', `workflow run ${run.id} found (${run.status})`, run.url);
      else note(`workflow run ${run.id} found (${run.status})`, run.url);
    }
    if (run && run.status !== 'completed') state.runSeenOpenAt = seen.now;
    if (run?.status === 'completed') {
      if (run.conclusion === 'success') {
        state.runEndedAt = previous.runSeenOpenAt ?? previous.deliveredAt;
        const pr = seen.pullRequest;
        if (seen.commit) {
          state.restoreCommit = seen.commit.sha;
          state.restoreUrl = seen.commit.url;
          move('restored', `run succeeded; restore commit ${short(seen.commit.sha)} is on ${limits.branch}`, seen.commit.url);
        } else if (pr?.mergeCommit && pr.mergedAt !== null) {
          state.restoreCommit = pr.mergeCommit;
          state.restoreUrl = pr.url;
          move('restored', `pull request merged as ${short(pr.mergeCommit)}`, pr.url);
        } else if (pr?.state === 'closed') {
          move('restore_failed', 'the rollback pull request was closed without merging', pr.url);
        } else if (pr) {
          if (state.pullRequestUrl !== pr.url) note('run succeeded; the rollback pull request is open, waiting for its merge', pr.url);
          state.pullRequestUrl = pr.url;
        } else {
          move('restored', `run succeeded without a restore commit: the values files were already identical on ${limits.branch}`, run.url);
        }
      } else if (run.conclusion === 'cancelled' && state.redispatches < limits.maxRedispatch) {
        state.redispatches += 1;
        state.cancelledRuns.push(run.id);
        state.runId = null;
        state.runSeenOpenAt = null;
        redispatch = true;
        note(`workflow run ${run.id} was cancelled; dispatched again (${state.redispatches} of ${limits.maxRedispatch})`, run.url);
      } else if (run.conclusion === 'cancelled') {
        move('restore_failed', `workflow run ${run.id} was cancelled, after ${state.redispatches} re-dispatch${state.redispatches === 1 ? '' : 'es'} (RESTORE_MAX_REDISPATCH=${limits.maxRedispatch})`, run.url);
      } else {
        // Which job and step failed, and why when the log says (the jobs could not be read: say that).
        const failure = seen.failedStep;
        const why = failure ? `: ${describeFailedStep(failure)}` : problem;
        move('restore_failed', `workflow run ${run.id} concluded ${run.conclusion ?? 'without a conclusion'}${why}`, failure?.url || run.url);
      }
    } else if (!run && state.runId === null && age > limits.runLookupMs) {
      const missing = missingWorkflowCause(seen.workflows);
      move(
        'run_missing',
        missing
          ? `no workflow run titled with this event id within ${seconds(limits.runLookupMs)} of delivery: ${missing}`
          : `no workflow run titled with this event id within ${seconds(limits.runLookupMs)} of delivery: is the workflow on the default branch, listening to repository_dispatch type ${limits.eventType}, with Actions enabled?${problem}`,
      );
    }
  }

  if (state.outcome === 'restored') {
    const report = seen.healthyReport;
    if (report) {
      state.verifiedReportId = report.id;
      move('verified', `Argo CD reported the app Healthy at ${short(report.revision)} (${iso(report.reportedAt)})`);
    } else if (age > limits.verifyTimeoutMs) {
      const where = state.restoreCommit ? `at the restore commit ${short(state.restoreCommit)}` : 'after the run ended';
      move('unverified', `no Healthy report ${where} within ${seconds(limits.verifyTimeoutMs)} of delivery: is Argo CD syncing ${limits.branch}, and is the app subscribed to on-deployed-healthy?`);
    }
  } else if ((state.outcome === 'restoring' || state.outcome === 'awaiting_run') && !redispatch && state.runId !== null && age > limits.verifyTimeoutMs) {
    const waiting = state.pullRequestUrl ? 'the rollback pull request is still not merged' : 'the workflow run has not finished';
    move('unverified', `${waiting} ${seconds(limits.verifyTimeoutMs)} after delivery`, state.pullRequestUrl);
  }

  // Back off per rollback while nothing changes; look again soon after progress.
  const progressed = changes.length > 0;
  state.pollMs = progressed ? limits.pollMs : Math.min(limits.pollMaxMs, previous.pollMs * 2);
  const final = FINAL.includes(state.outcome);
  return { changes, state, redispatch, nextCheckAt: final || redispatch ? null : seen.now + state.pollMs };
}

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { NOTIFIED_OUTCOMES, decideOutcome, healthyReportQuery, type Observations, type OutcomeDecision, type OutcomeLimits } from '../domain/outcome';
import { errorLineOf, parseWorkflows, pickFailedStep } from '../domain/restore-failure';
import { classifyGitHubAnswer, type GitHubAnswer } from '../github/classify-answer';
import type { GitHubClient } from '../github/github-client';
import { readJobLog, seconds } from '../github/log-reader';
import type { Metrics } from '../metrics/metrics';
import { pickPullRequest, pickRestoreCommit, pickRun, rollbackBranch } from '../github/restore-lookups';
import type { Store } from '../store/database';
import { acquireSlot, holdToken, readSlotKey, releaseSlot } from '../store/dispatch-slots.repository';
import { nextReadAt } from '../github/read-pace';
import { renewLease, type Lease } from '../store/leased-work';
import { enqueueNotification } from '../store/notifications.repository';
import { claimFollow, findVerifyingReport, nextFollowDueAt, recordFollowDecision, releaseFollows, type FollowedRollback } from '../store/outcome-follows.repository';
import { PollingLoop } from '../workers/polling-loop';

export interface OutcomeWorkerOptions {
  store: Store;
  github: GitHubClient;
  /** The token (tokenKeyFor): reads take its read slot (readSlotKey), apart from its dispatches, and share its rate-limit pauses. */
  tokenKey: string;
  clock: Clock;
  logger: Logger;
  limits: Omit<OutcomeLimits, 'eventType'>;
  /** How long a look may hold a rollback (and the token's slot) before another replica takes over. */
  leaseMs: number;
  /** GITHUB_READ_INTERVAL_MS: the shortest gap between two reads with the token (read-pace.ts). */
  readIntervalMs: number;
  notify: boolean;
  /** Wakes the notifier when a message was written. */
  onNotification?: () => void;
  /** Wakes the delivery worker when a cancelled run's event went back on the queue. */
  onRedispatch?: () => void;
  pollIntervalMs?: number;
  owner?: string;
  metrics?: Metrics;
  /**
   * Reading a failed job's log, outside the token's slot: GitHub's API address (a private one allows a
   * private log address, as on GitHub Enterprise Server) and the whole read's deadline.
   */
  jobLog: { apiUrl: string; timeoutMs: number };
}

/** How old a runs or commits listing may be and still answer another follow-up's look (at most half of OUTCOME_POLL_MS). */
const RUN_LIST_FRESH_MS = 5000;
/** Runs listings read at most this many pages of 100 (an incident of 500 rollbacks in one repository). */
const MAX_LIST_PAGES = 5;

/** The most of a job's log read to find why it failed (a restore job's log is a few KB): the rest is not read. */
export const MAX_LOG_BYTES = 4 * 1024 * 1024;

/** Conclusions that are not a failure to explain: success, and a cancel (dispatched again or reported as such). */
const QUIET_CONCLUSIONS = ['success', 'cancelled', 'skipped', 'neutral'];

/** What one GitHub read gave: the parsed body, or why not (and, for a rate limit, when to come back). */
type Read = { ok: true; data: unknown } | { ok: false; problem: string; retryAt?: number };

const READ_REMEDIES: Record<number, string> = {
  401: 'check GH_PAT_WEBHOOK',
  403: 'the token needs Actions: read and Contents: read on the repository (Pull requests: read in pull-request mode)',
  404: 'check the repository, and that the token can read its Actions',
};

/**
 * Follows every delivered rollback to its outcome: leases one that is due, asks GitHub for its run,
 * restore commit or pull request (one request at a time through the token's read slot, paced apart
 * from the dispatches), looks for the Healthy report that verifies it, and records the decision
 * (src/domain/outcome.ts) with its notifications in one transaction.
 */
export class OutcomeWorker extends PollingLoop {
  readonly owner: string;
  /** The last runs and commits listing of each repository (listRuns, listCommits). */
  private readonly listings = new Map<string, { at: number; since: string; items: unknown[] }>();

  constructor(private readonly options: OutcomeWorkerOptions) {
    super(options.clock, options.logger.child({ component: 'outcomes' }), options.pollIntervalMs ?? 5000);
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}:outcomes`;
  }

  protected override async step(): Promise<'worked' | number | undefined> {
    const { store, leaseMs } = this.options;
    const followed = await claimFollow(store.db, store.dialect, this.clock.now(), this.owner, leaseMs);
    if (!followed) return nextFollowDueAt(store.db, store.dialect, this.clock.now());
    await this.look(followed);
    return 'worked';
  }

  protected override async afterStop(): Promise<void> {
    await releaseFollows(this.options.store.db, this.owner).catch((error: unknown) => this.logger.warn({ err: error }, 'could not release outcome leases; they expire'));
  }

  protected override onLeaseLost(): void {
    this.options.metrics?.countLeaseLost('outcome');
  }

  /**
   * Waits for the token's read slot (its own pace, apart from the dispatches': a read never delays a due
   * dispatch); undefined when the worker stops first.
   */
  private async takeSlot(): Promise<Lease<'dispatch_slots'> | undefined> {
    const { store, tokenKey, leaseMs } = this.options;
    while (this.running) {
      const attempt = await acquireSlot(store.db, store.dialect, readSlotKey(tokenKey), this.owner, this.clock.now(), leaseMs);
      if (attempt.acquired) return attempt.lease;
      await this.clock.sleep(Math.min(Math.max(0, attempt.retryAt - this.clock.now()), 1000), this.stopSignal.signal);
    }
    return undefined;
  }

  /**
   * One GET through the token's slot: waits for it, renews the follow-up's lease (a look may wait long
   * for the slot), sends, gives the slot back with the next allowed time.
   */
  private async read(followed: FollowedRollback, path: string, params: Record<string, string>): Promise<Read> {
    return this.send(followed, (signal) => this.options.github.get(path, params, signal));
  }

  /** One request through the token's slot (see read): a GET of the REST API or a job's log. */
  private async send(followed: FollowedRollback, request: (signal: AbortSignal) => Promise<{ answer: GitHubAnswer; data: unknown }>, redirectIsAnswer = false): Promise<Read> {
    const { store, leaseMs, tokenKey, readIntervalMs } = this.options;
    const slot = await this.takeSlot();
    if (!slot) return { ok: false, problem: 'stopping' };
    let nextAllowedAt = this.clock.now() + readIntervalMs;
    try {
      followed.lease = await renewLease(store.db, store.dialect, followed.lease, leaseMs);
    } catch (error) {
      await releaseSlot(store.db, store.dialect, slot, 0);
      throw error;
    }
    try {
      const { answer, data } = await request(this.stopSignal.signal);
      this.options.metrics?.observeGitHubAnswer(answer);
      const finishedAt = this.clock.now();
      // A job log's 302 is the answer asked for: its address, read outside the slot.
      const verdict = redirectIsAnswer && answer.kind === 'response' && answer.status === 302 ? ({ kind: 'delivered' } as const) : classifyGitHubAnswer(answer, finishedAt);
      nextAllowedAt = nextReadAt(answer, finishedAt, readIntervalMs);
      switch (verdict.kind) {
        case 'delivered':
          return { ok: true, data };
        case 'rate_limited':
          nextAllowedAt = Math.max(verdict.retryAt, nextAllowedAt);
          // The token's limit: its dispatches wait too.
          await holdToken(store.db, store.dialect, tokenKey, verdict.retryAt);
          return { ok: false, problem: verdict.reason, retryAt: verdict.retryAt };
        case 'permanent': {
          const status = answer.kind === 'response' ? answer.status : 0;
          return { ok: false, problem: `${verdict.reason}; ${READ_REMEDIES[status] ?? 'see its message'}` };
        }
        case 'transient':
          return { ok: false, problem: verdict.reason };
      }
    } finally {
      await releaseSlot(store.db, store.dialect, slot, nextAllowedAt);
    }
  }

  /**
   * The line of a failed job's log that says why, read with its own deadline and outside the token's
   * slot, so a slow or endless log address holds up neither dispatches nor other looks; a read that ran
   * out of time or size is used as far as it went.
   */
  private async readLog(address: string): Promise<{ errorLine?: string; logProblem?: string }> {
    const { apiUrl, timeoutMs } = this.options.jobLog;
    const read = await readJobLog(address, { apiUrl, deadlineMs: timeoutMs, maxBytes: MAX_LOG_BYTES, signal: this.stopSignal.signal });
    if (!read.ok) return { logProblem: read.problem };
    const errorLine = errorLineOf(read.text);
    if (errorLine) return { errorLine };
    if (read.cut === 'size') return { logProblem: `no error line in the log's first ${MAX_LOG_BYTES / 1024 / 1024} MB` };
    return read.cut === 'time' ? { logProblem: `log not readable in ${seconds(timeoutMs)}` } : {};
  }

  /**
   * The repository's dispatched runs since `since`, every page: one listing answers every follow-up of
   * the repository that looks within RUN_LIST_FRESH_MS and needs no older runs (in an incident, a
   * hundred rollbacks of one repository cost one listing per look, not a hundred).
   */
  private async listRuns(followed: FollowedRollback, repo: string, since: string): Promise<Read> {
    const key = `runs ${repo}`;
    const cached = this.listings.get(key);
    if (cached && cached.since <= since && this.clock.now() - cached.at <= this.listingFreshMs()) return { ok: true, data: { workflow_runs: cached.items } };
    const items: unknown[] = [];
    for (let page = 1; page <= MAX_LIST_PAGES; page += 1) {
      const read = await this.read(followed, `${repo}/actions/runs`, { event: 'repository_dispatch', created: `>=${since}`, per_page: '100', page: String(page) });
      if (!read.ok) return read;
      const { workflow_runs: runs, total_count: total } = (read.data ?? {}) as { workflow_runs?: unknown[]; total_count?: number };
      items.push(...(Array.isArray(runs) ? runs : []));
      if (!Array.isArray(runs) || runs.length < 100 || (typeof total === 'number' && items.length >= total)) break;
    }
    this.listings.set(key, { at: this.clock.now(), since, items });
    return { ok: true, data: { workflow_runs: items } };
  }

  /**
   * The branch's commits since `since` (the newest 100), shared like listRuns; a listing is reused only
   * when it was read after the run finished (`notBefore`), so a restore commit pushed by then is in it.
   */
  private async listCommits(followed: FollowedRollback, repo: string, branch: string, since: string, notBefore: number): Promise<Read> {
    const key = `commits ${repo} ${branch}`;
    const cached = this.listings.get(key);
    if (cached && cached.since <= since && this.clock.now() - cached.at <= this.listingFreshMs() && Number.isFinite(notBefore) && cached.at >= notBefore) return { ok: true, data: cached.items };
    const read = await this.read(followed, `${repo}/commits`, { sha: branch, since, per_page: '100' });
    if (read.ok && Array.isArray(read.data)) this.listings.set(key, { at: this.clock.now(), since, items: read.data as unknown[] });
    return read;
  }

  /** RUN_LIST_FRESH_MS, or half the first poll interval when that is shorter (no look sees only its own past). */
  private listingFreshMs(): number {
    return Math.min(RUN_LIST_FRESH_MS, this.options.limits.pollMs / 2);
  }

  private async observe(followed: FollowedRollback): Promise<{ seen: Observations; retryAt?: number }> {
    const { event, state } = followed;
    const { branch } = this.options.limits;
    const repo = `/repos/${encodeURIComponent(event.target.owner)}/${encodeURIComponent(event.target.repo)}`;
    const since = new Date(state.deliveredAt - 60_000).toISOString();
    const seen: Observations = { now: this.clock.now() };
    let retryAt: number | undefined;
    const take = (read: Read): unknown => {
      if (read.ok) return read.data;
      seen.githubProblem = read.problem;
      retryAt = read.retryAt ?? retryAt;
      return undefined;
    };

    if (state.outcome === 'awaiting_run' || state.outcome === 'restoring') {
      const runs = take(await this.listRuns(followed, repo, since));
      seen.run = pickRun(runs, { eventId: event.id, dispatchId: followed.deliveryId, sentAt: state.deliveredAt }, state.cancelledRuns);
      if (seen.run?.status === 'completed' && !QUIET_CONCLUSIONS.includes(seen.run.conclusion ?? '')) {
        // Failed: which job and step, and the line of its log that says why.
        seen.failedStep = pickFailedStep(take(await this.read(followed, `${repo}/actions/runs/${encodeURIComponent(seen.run.id)}/jobs`, { filter: 'latest', per_page: '100' })));
        if (seen.failedStep) {
          const path = `${repo}/actions/jobs/${encodeURIComponent(seen.failedStep.jobId)}/logs`;
          const address = take(
            await this.send(
              followed,
              async (signal) => {
                const { answer, location } = await this.options.github.getLogAddress(path, signal);
                return { answer, data: location };
              },
              true,
            ),
          );
          if (typeof address === 'string') Object.assign(seen.failedStep, await this.readLog(address));
        }
      }
      if (!seen.run && state.runId === null && this.clock.now() - state.deliveredAt > this.options.limits.runLookupMs) {
        // About to give up on the run: the repository's workflows may say why none started.
        seen.workflows = parseWorkflows(take(await this.read(followed, `${repo}/actions/workflows`, { per_page: '100' })));
      }
      if (seen.run?.status === 'completed' && seen.run.conclusion === 'success') {
        seen.commit = pickRestoreCommit(take(await this.listCommits(followed, repo, branch, since, seen.run.updatedAt)), event.id);
        if (!seen.commit) {
          const head = `${event.target.owner}:${rollbackBranch(event.id)}`;
          seen.pullRequest = pickPullRequest(take(await this.read(followed, `${repo}/pulls`, { state: 'all', head, per_page: '100' })), event.id);
        }
      }
    }
    seen.now = this.clock.now();
    return { seen, retryAt };
  }

  private async look(followed: FollowedRollback): Promise<void> {
    const { store, limits, notify } = this.options;
    const { event, state } = followed;
    const log = this.logger.child({ eventId: event.id, app: event.app });
    const fullLimits: OutcomeLimits = { ...limits, eventType: event.eventType };
    const { seen, retryAt } = await this.observe(followed);
    // Stopping mid-look: record nothing; the lease is given back and the next start looks again.
    if (!this.running) return;
    // Restored now or before: the Healthy report that verifies it is in the store, not on GitHub.
    const first = decideOutcome(state, seen, fullLimits);
    if (first.state.outcome === 'restored') {
      seen.healthyReport = await findVerifyingReport(store.db, event.app, healthyReportQuery(first.state), state.deliveredAt);
    }
    const decision: OutcomeDecision = decideOutcome(state, seen, fullLimits);
    // GitHub said when to come back: no look before then.
    if (retryAt !== undefined && decision.nextCheckAt !== null) decision.nextCheckAt = Math.max(decision.nextCheckAt, retryAt);

    const now = this.clock.now();
    const notified = decision.changes.filter((c) => NOTIFIED_OUTCOMES.includes(c.outcome) && c.outcome === decision.state.outcome && c.outcome !== state.outcome);
    const result = await store.transaction(async (trx) => {
      if ((await recordFollowDecision(trx, store.dialect, followed, decision, now)) === 'superseded') return 'superseded';
      for (const change of notified) {
        await enqueueNotification(trx, notify, {
          kind: change.outcome as 'verified' | 'run_missing' | 'restore_failed' | 'unverified',
          app: event.app,
          eventId: event.id,
          failedRevision: event.failedRevision,
          healthyRevision: event.healthyRevision,
          reason: change.reason,
          link: change.url ?? decision.state.restoreUrl ?? event.restoreUrl ?? decision.state.runUrl ?? event.runUrl,
          at: now,
        });
      }
      return 'recorded';
    });
    if (result === 'superseded') {
      log.info({ followId: followed.id }, 'a replay started a newer delivery of this rollback: this follow-up ends without a decision');
      return;
    }
    for (const change of decision.changes) {
      this.options.metrics?.countOutcome(change.outcome);
      const level = ['run_missing', 'restore_failed', 'unverified'].includes(change.outcome) ? 'error' : 'info';
      log[level]({ outcome: change.outcome, url: change.url ?? undefined }, `outcome ${change.outcome}: ${change.reason}`);
    }
    if (seen.githubProblem && decision.changes.length === 0) log.warn({ problem: seen.githubProblem }, 'could not read the rollback on GitHub; looking again later');
    if (notified.length > 0) this.options.onNotification?.();
    if (decision.redispatch) this.options.onRedispatch?.();
  }
}

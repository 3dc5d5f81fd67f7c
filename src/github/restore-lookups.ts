/**
 * Reading GitHub's answers about one rollback: its workflow run, its restore commit, its pull request.
 * Pure parsers of the REST API's JSON (field names as GitHub documents them), so they are table-tested.
 */
import type { Observations, RunView } from '../domain/outcome';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** The branch pull-request mode pushes a rollback to (deploy/github/restore-values.sh). */
export const rollbackBranch = (eventId: string) => `gitops-rollback/${eventId}`;

/** A run's title names its dispatch as the shipped workflow's run-name writes it: "…, dispatch <id>)". */
const DISPATCH_IN_TITLE = /\bdispatch ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b/;

/**
 * How much earlier than the dispatch's answer a run named the old way (without its dispatch id) may have
 * been created and still be this dispatch's: GitHub creates the run after accepting the dispatch, so
 * this only absorbs the difference between GitHub's clock and ours.
 */
export const OLD_STYLE_RUN_SKEW_MS = 5000;

/**
 * From GET /repos/{owner}/{repo}/actions/runs: the newest run of this dispatch. Its display_title (the
 * workflow's run-name) carries the event id and, from the shipped workflow, the dispatch id, which must
 * be this one: a run of an earlier dispatch of the same event (a replay, a re-dispatch) is never taken,
 * even while GitHub does not list the new run yet. A run named the old way (no dispatch id) counts only
 * if GitHub created it after this dispatch was sent (`sentAt`, less OLD_STYLE_RUN_SKEW_MS). Runs in
 * `skip` (cancelled and dispatched again) are left out.
 */
export function pickRun(data: unknown, dispatch: { eventId: string; dispatchId: string; sentAt: number }, skip: readonly string[]): RunView | undefined {
  const runs = isObject(data) && Array.isArray(data.workflow_runs) ? data.workflow_runs : [];
  const ours = (r: Json) => {
    const title = text(r.display_title);
    if (!title?.includes(dispatch.eventId) || skip.includes(String(r.id))) return false;
    const named = DISPATCH_IN_TITLE.exec(title)?.[1];
    if (named !== undefined) return named === dispatch.dispatchId;
    return (Date.parse(text(r.created_at) ?? '') || 0) >= dispatch.sentAt - OLD_STYLE_RUN_SKEW_MS;
  };
  const candidates = runs
    .filter(isObject)
    .filter(ours)
    .map((r) => ({
      id: String(r.id),
      status: text(r.status) ?? 'unknown',
      conclusion: text(r.conclusion) ?? null,
      url: text(r.html_url) ?? '',
      createdAt: Date.parse(text(r.created_at) ?? '') || 0,
      updatedAt: Date.parse(text(r.updated_at) ?? '') || 0,
    }))
    .sort((a, b) => b.createdAt - a.createdAt);
  const newest = candidates[0];
  return newest ? { id: newest.id, status: newest.status, conclusion: newest.conclusion, url: newest.url, updatedAt: newest.updatedAt } : undefined;
}

/** From GET /repos/{owner}/{repo}/commits: the commit whose message has the trailer `Rollback-Event: <id>`. */
export function pickRestoreCommit(data: unknown, eventId: string): Observations['commit'] {
  const trailer = new RegExp(`^Rollback-Event: ${eventId.replace(/[^A-Za-z0-9_-]/g, '')}$`, 'm');
  const commits = Array.isArray(data) ? data.filter(isObject) : [];
  const found = commits.find((c) => isObject(c.commit) && trailer.test(text(c.commit.message) ?? ''));
  const sha = found ? text(found.sha) : undefined;
  return found && sha ? { sha: sha.toLowerCase(), url: text(found.html_url) ?? '' } : undefined;
}

/** From GET /repos/{owner}/{repo}/pulls?head=…: the rollback's pull request, merged or not. */
export function pickPullRequest(data: unknown, eventId: string): Observations['pullRequest'] {
  const pulls = Array.isArray(data) ? data.filter(isObject) : [];
  const found = pulls.find((p) => isObject(p.head) && p.head.ref === rollbackBranch(eventId));
  if (!found) return undefined;
  const mergedAt = text(found.merged_at);
  return {
    url: text(found.html_url) ?? '',
    state: text(found.state) ?? 'open',
    mergedAt: mergedAt ? Date.parse(mergedAt) : null,
    mergeCommit: mergedAt ? (text(found.merge_commit_sha)?.toLowerCase() ?? null) : null,
  };
}

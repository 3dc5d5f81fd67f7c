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

/**
 * From GET /repos/{owner}/{repo}/actions/runs: the newest run whose display_title (the workflow's
 * run-name) carries the event id, skipping runs already cancelled and dispatched again.
 */
export function pickRun(data: unknown, eventId: string, skip: readonly string[]): RunView | undefined {
  const runs = isObject(data) && Array.isArray(data.workflow_runs) ? data.workflow_runs : [];
  const candidates = runs
    .filter(isObject)
    .filter((r) => text(r.display_title)?.includes(eventId) && !skip.includes(String(r.id)))
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

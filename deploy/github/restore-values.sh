#!/usr/bin/env bash
# Restores files and folders (what an Argo CD app renders from: Helm value files, a Kustomize or directory
# path) to a healthy revision, commits once, and pushes to the target branch, or
# (ROLLBACK_MODE=pr) opens a pull request from a branch named after the event. Run at the root of the
# GitOps repository (a full clone: fetch-depth 0). Called by rollback.yml.
#
# Environment:
#   HEALTHY_REVISION     required: the commit to restore, a full id (40 or 64 hex)
#   FAILED_REVISION      optional: the commit that failed (7-64 hex), named in the commit message
#   ROLLBACK_APP         optional: the Argo CD app, named in the subject and a Rollback-App: trailer
#   ROLLBACK_EVENT_ID    the webhook's event id, in a Rollback-Event: trailer (required in pr mode)
#   ROLLBACK_MODE        push (default): commit onto TARGET_BRANCH; pr: push the commit to the branch
#                        gitops-rollback/<event id> and open a pull request into TARGET_BRANCH with gh
#                        (GH_TOKEN and GH_REPO set by the workflow)
#   ROLLBACK_AUTO_MERGE  pr mode: true enables auto-merge on the pull request (default false)
#   ROLLBACK_MERGE_METHOD  pr mode, with auto-merge: squash (default), merge or rebase
#   RESTORE_PATHS        files and folders to restore, newline- or space-separated (the webhook's
#                        restore_paths). A folder is restored exactly: files added since are removed.
#                        An Argo CD Image Updater write-back file (.argocd-source-*.yaml) is optional:
#                        restored when the healthy revision has it, removed when only the branch has it.
#   VALUES_PATHS         used when RESTORE_PATHS is empty: files to restore (default nextjs/values.yaml)
#   ALLOWED_PATHS_REGEX  what a path must match (default ^[A-Za-z0-9._/-]+$ for RESTORE_PATHS,
#                        ^[A-Za-z0-9._/-]+\.ya?ml$ for VALUES_PATHS); whatever it says, a path with "..",
#                        a leading "/", the repository root, .git or anything under .github/ is refused
#   TARGET_BRANCH        branch to push to (default main)
#   GIT_REMOTE           remote to push to (default origin)
#   PUSH_ATTEMPTS        pushes to try, rebasing on the remote between them (default 5)
#
# Exit 0 when pushed (or the pull request is open) or when the files already equal the healthy revision;
# otherwise non-zero with a one-line reason on stderr. Payload values are echoed only once validated.
set -euo pipefail

die() {
  printf 'restore-values: %s\n' "$1" >&2
  exit 1
}

healthy="${HEALTHY_REVISION:-}"
failed="${FAILED_REVISION:-}"
restore_paths="${RESTORE_PATHS:-}"
if [[ -n "${restore_paths//[[:space:]]/}" ]]; then
  values_paths="$restore_paths"
  allowed_regex="${ALLOWED_PATHS_REGEX:-^[A-Za-z0-9._/-]+$}"
else
  values_paths="${VALUES_PATHS:-nextjs/values.yaml}"
  allowed_regex="${ALLOWED_PATHS_REGEX:-^[A-Za-z0-9._/-]+\.ya?ml$}"
fi
branch="${TARGET_BRANCH:-main}"
remote="${GIT_REMOTE:-origin}"
attempts="${PUSH_ATTEMPTS:-5}"
app="${ROLLBACK_APP:-}"
event_id="${ROLLBACK_EVENT_ID:-}"
mode="${ROLLBACK_MODE:-push}"
auto_merge="${ROLLBACK_AUTO_MERGE:-false}"
merge_method="${ROLLBACK_MERGE_METHOD:-squash}"

healthy="${healthy,,}"
failed="${failed,,}"
[[ "$healthy" =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]] || die "HEALTHY_REVISION is not a full commit id (40 or 64 hex characters)"
[[ -z "$failed" || "$failed" =~ ^[0-9a-f]{7,64}$ ]] || die "FAILED_REVISION is not a commit id (7 to 64 hex characters)"
[[ "$branch" =~ ^[A-Za-z0-9._/-]+$ && "$branch" != *..* ]] || die "TARGET_BRANCH is not a plain branch name"
[[ "$remote" =~ ^[A-Za-z0-9._-]+$ ]] || die "GIT_REMOTE is not a plain remote name"
[[ "$attempts" =~ ^[1-9][0-9]?$ ]] || die "PUSH_ATTEMPTS must be a number from 1 to 99"
# The same rule as the webhook's app names; no ".." so a name can never look like a path trick.
[[ -z "$app" || ( "$app" =~ ^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$ && "$app" != *..* ) ]] || die "ROLLBACK_APP is not an Argo CD application name"
[[ -z "$event_id" || "$event_id" =~ ^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$ ]] || die "ROLLBACK_EVENT_ID is not an event id (letters, digits, - and _)"
case "$mode" in
  push) ;;
  pr) [[ -n "$event_id" ]] || die "ROLLBACK_MODE=pr needs ROLLBACK_EVENT_ID: the branch is named after the event" ;;
  *) die "ROLLBACK_MODE must be push or pr" ;;
esac
[[ "$auto_merge" == true || "$auto_merge" == false ]] || die "ROLLBACK_AUTO_MERGE must be true or false"
[[ "$merge_method" =~ ^(squash|merge|rebase)$ ]] || die "ROLLBACK_MERGE_METHOD must be squash, merge or rebase"

raw_paths=()
read -r -d '' -a raw_paths < <(printf '%s\0' "$values_paths" | tr '\n\t' '  ') || true
[[ ${#raw_paths[@]} -gt 0 ]] || die "RESTORE_PATHS / VALUES_PATHS names nothing to restore"
paths=()
for path in "${raw_paths[@]}"; do
  # The fixed rules come first so no ALLOWED_PATHS_REGEX can let these through.
  case "/$path/" in
    */../* | //*) die "path refused (leaves the repository): a path may not contain .. or start with /" ;;
  esac
  path="${path%/}"
  while [[ "$path" == ./* ]]; do path="${path#./}"; done
  [[ -n "$path" && "$path" != . ]] || die "path refused: the repository root is never restored whole (it would undo every other change)"
  [[ "$path" != .github && "$path" != .github/* ]] || die "path refused: nothing under .github/ is restored (a rollback never rewrites workflows)"
  [[ "$path" != .git && "$path" != .git/* ]] || die "path refused: .git is not content"
  [[ "$path" =~ $allowed_regex ]] || die "path refused: $path does not match ALLOWED_PATHS_REGEX"
  paths+=("$path")
done

# Argo CD Image Updater's write-back file: optional (an app may have none at either commit).
is_write_back() { [[ "$(basename "$1")" =~ ^\.argocd-source-[A-Za-z0-9._-]+\.ya?ml$ ]]; }

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "not inside a git work tree: run at the root of the GitOps repository"
git fetch --quiet "$remote" "$branch" || die "cannot fetch $branch from $remote"
git checkout --quiet -B "$branch" "refs/remotes/$remote/$branch" || die "cannot check out $remote/$branch"
git cat-file -e "${healthy}^{commit}" 2>/dev/null || die "HEALTHY_REVISION is not a commit in this repository (is the clone shallow? use fetch-depth: 0)"
for path in "${paths[@]}"; do
  git cat-file -e "${healthy}:${path}" 2>/dev/null || is_write_back "$path" || die "$path did not exist at the healthy revision ${healthy:0:12}; refusing to guess what to restore"
done

# Each path as it was at the healthy commit: a folder exactly (files added since are removed), a
# write-back file restored or removed.
restored=()
for path in "${paths[@]}"; do
  if git cat-file -e "${healthy}:${path}" 2>/dev/null; then
    git restore --source="$healthy" --staged --worktree -- "$path" || die "cannot restore $path from ${healthy:0:12}"
    restored+=("$path")
  elif git cat-file -e "HEAD:${path}" 2>/dev/null; then
    git rm --quiet -r -- "$path" >/dev/null || die "cannot remove $path (absent at ${healthy:0:12})"
    restored+=("$path")
  fi
done
if git diff --cached --quiet; then
  echo "restore-values: ${#paths[@]} path(s) already identical to ${healthy:0:12}; nothing to do"
  exit 0
fi

subject="Roll back ${app:-${paths[*]}} to ${healthy:0:12}"
body="Restore ${restored[*]} as of ${healthy}"
[[ -z "$failed" ]] || body="${body}
because ${failed} went Degraded"
# Trailers: what the webhook's outcome tracking finds a restore by (Rollback-Event), and the audit trail.
trailers="Healthy-Revision: ${healthy}
Failed-Revision: ${failed:-unknown}"
[[ -z "$app" ]] || trailers="${trailers}
Rollback-App: ${app}"
[[ -z "$event_id" ]] || trailers="${trailers}
Rollback-Event: ${event_id}"
for path in "${restored[@]}"; do
  trailers="${trailers}
Restored-Path: ${path}"
done
git commit --quiet -m "$subject" -m "$body" -m "$trailers"

if [[ "$mode" == pr ]]; then
  # A branch per event: a rerun of the same event replaces its own branch and finds its own pull request.
  pr_branch="gitops-rollback/${event_id}"
  command -v gh >/dev/null || die "ROLLBACK_MODE=pr needs the gh command (preinstalled on GitHub-hosted runners)"
  git push --quiet --force "$remote" "HEAD:refs/heads/$pr_branch" 2>/dev/null || die "cannot push the branch $pr_branch to $remote"
  number="$(gh pr list --head "$pr_branch" --base "$branch" --state open --json number --jq '.[0].number // empty')" || die "gh cannot list pull requests (check GH_TOKEN and pull-requests: write)"
  if [[ -z "$number" ]]; then
    gh pr create --base "$branch" --head "$pr_branch" --title "$subject" --body "${body}

Opened by gitops-rollback for event ${event_id}. Merging it restores the paths listed below; Argo CD then syncs.

${trailers}" >/dev/null || die "gh cannot open the pull request (check GH_TOKEN, pull-requests: write, and that Actions may create pull requests)"
    echo "restore-values: opened a pull request from $pr_branch restoring ${#restored[@]} path(s) to ${healthy:0:12}"
  else
    echo "restore-values: pull request #$number from $pr_branch is already open; its branch now holds this restore"
  fi
  if [[ "$auto_merge" == true ]]; then
    gh pr merge "$pr_branch" --auto "--$merge_method" >/dev/null || die "gh cannot enable auto-merge (is it allowed in the repository settings?)"
    echo "restore-values: auto-merge ($merge_method) enabled on $pr_branch"
  fi
  exit 0
fi

for ((try = 1; try <= attempts; try++)); do
  if push_error="$(git push --quiet "$remote" "HEAD:refs/heads/$branch" 2>&1)"; then
    echo "restore-values: pushed $(git rev-parse --short=12 HEAD) restoring ${#restored[@]} path(s) to ${healthy:0:12}"
    exit 0
  fi
  # A protected branch never takes the push, however often it is tried: say so (GitHub's own line, which
  # names the rule, not a credential), so the webhook can name the cause and its remedy.
  refusal="$(printf '%s\n' "$push_error" | grep -m1 -E 'GH006|GH013|[Pp]rotected branch|rule violations' | tr -d '\r' | sed -E 's/^remote: +//; s/[[:space:]]+$//' | cut -c1-200 || true)"
  [[ -z "$refusal" ]] || die "push to $remote/$branch refused by branch protection ($refusal): set ROLLBACK_MODE=pr, or let this token push"
  # Someone pushed meanwhile: replay our commit on top of theirs and try again.
  git fetch --quiet "$remote" "$branch" || die "cannot fetch $branch from $remote"
  if ! git rebase --quiet "refs/remotes/$remote/$branch" >/dev/null 2>&1; then
    git rebase --abort >/dev/null 2>&1 || true
    die "the restored paths changed on $branch meanwhile and conflict with the restore; resolve by hand"
  fi
  if [[ "$(git rev-parse HEAD)" == "$(git rev-parse "refs/remotes/$remote/$branch")" ]]; then
    echo "restore-values: $branch already has this restore; nothing to push"
    exit 0
  fi
  sleep "$try"
done
die "push to $remote/$branch failed $attempts times"

#!/usr/bin/env bash
# Restores Helm values files to a healthy revision, commits once, and pushes to the target branch.
# Run at the root of the GitOps repository (a full clone: fetch-depth 0). Called by rollback.yml.
#
# Environment:
#   HEALTHY_REVISION     required: the commit to restore, a full id (40 or 64 hex)
#   FAILED_REVISION      optional: the commit that failed (7-64 hex), named in the commit message
#   VALUES_PATHS         files to restore, newline- or space-separated (default nextjs/values.yaml)
#   ALLOWED_PATHS_REGEX  what a path must match (default ^[A-Za-z0-9._/-]+\.ya?ml$); whatever it says,
#                        a path with "..", a leading "/" or under .github/ is always refused
#   TARGET_BRANCH        branch to push to (default main)
#   GIT_REMOTE           remote to push to (default origin)
#   PUSH_ATTEMPTS        pushes to try, rebasing on the remote between them (default 5)
#
# Exit 0 when pushed or when the files already equal the healthy revision; otherwise non-zero with a
# one-line reason on stderr. Values from the payload are never echoed: they may be hostile.
set -euo pipefail

die() {
  printf 'restore-values: %s\n' "$1" >&2
  exit 1
}

healthy="${HEALTHY_REVISION:-}"
failed="${FAILED_REVISION:-}"
values_paths="${VALUES_PATHS:-nextjs/values.yaml}"
allowed_regex="${ALLOWED_PATHS_REGEX:-^[A-Za-z0-9._/-]+\.ya?ml$}"
branch="${TARGET_BRANCH:-main}"
remote="${GIT_REMOTE:-origin}"
attempts="${PUSH_ATTEMPTS:-5}"

healthy="${healthy,,}"
failed="${failed,,}"
[[ "$healthy" =~ ^([0-9a-f]{40}|[0-9a-f]{64})$ ]] || die "HEALTHY_REVISION is not a full commit id (40 or 64 hex characters)"
[[ -z "$failed" || "$failed" =~ ^[0-9a-f]{7,64}$ ]] || die "FAILED_REVISION is not a commit id (7 to 64 hex characters)"
[[ "$branch" =~ ^[A-Za-z0-9._/-]+$ && "$branch" != *..* ]] || die "TARGET_BRANCH is not a plain branch name"
[[ "$remote" =~ ^[A-Za-z0-9._-]+$ ]] || die "GIT_REMOTE is not a plain remote name"
[[ "$attempts" =~ ^[1-9][0-9]?$ ]] || die "PUSH_ATTEMPTS must be a number from 1 to 99"

paths=()
read -r -d '' -a paths < <(printf '%s\0' "$values_paths" | tr '\n\t' '  ') || true
[[ ${#paths[@]} -gt 0 ]] || die "VALUES_PATHS names no file"
for path in "${paths[@]}"; do
  # The fixed rules come first so no ALLOWED_PATHS_REGEX can let these through.
  case "/$path/" in
    */../* | //*) die "path refused (leaves the repository): a values path may not contain .. or start with /" ;;
  esac
  [[ "$path" != .github/* ]] || die "path refused: nothing under .github/ is restored (a rollback never rewrites workflows)"
  [[ "$path" =~ $allowed_regex ]] || die "path refused: a values path does not match ALLOWED_PATHS_REGEX"
done

git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "not inside a git work tree: run at the root of the GitOps repository"
git fetch --quiet "$remote" "$branch" || die "cannot fetch $branch from $remote"
git checkout --quiet -B "$branch" "refs/remotes/$remote/$branch" || die "cannot check out $remote/$branch"
git cat-file -e "${healthy}^{commit}" 2>/dev/null || die "HEALTHY_REVISION is not a commit in this repository (is the clone shallow? use fetch-depth: 0)"
for path in "${paths[@]}"; do
  git cat-file -e "${healthy}:${path}" 2>/dev/null || die "$path does not exist at the healthy revision"
done

git checkout --quiet "$healthy" -- "${paths[@]}"
if git diff --cached --quiet; then
  echo "restore-values: ${#paths[@]} file(s) already identical to ${healthy:0:12}; nothing to do"
  exit 0
fi

subject="Roll back ${paths[*]} to ${healthy:0:12}"
body="Restore ${paths[*]} as of ${healthy}"
[[ -z "$failed" ]] || body="${body}
because ${failed} went Degraded"
git commit --quiet -m "$subject" -m "$body" -m "Healthy-Revision: ${healthy}
Failed-Revision: ${failed:-unknown}"

for ((try = 1; try <= attempts; try++)); do
  if git push --quiet "$remote" "HEAD:refs/heads/$branch" 2>/dev/null; then
    echo "restore-values: pushed $(git rev-parse --short=12 HEAD) restoring ${#paths[@]} file(s) to ${healthy:0:12}"
    exit 0
  fi
  # Someone pushed meanwhile: replay our commit on top of theirs and try again.
  git fetch --quiet "$remote" "$branch" || die "cannot fetch $branch from $remote"
  if ! git rebase --quiet "refs/remotes/$remote/$branch" >/dev/null 2>&1; then
    git rebase --abort >/dev/null 2>&1 || true
    die "the values files changed on $branch meanwhile and conflict with the restore; resolve by hand"
  fi
  if [[ "$(git rev-parse HEAD)" == "$(git rev-parse "refs/remotes/$remote/$branch")" ]]; then
    echo "restore-values: $branch already has this restore; nothing to push"
    exit 0
  fi
  sleep "$try"
done
die "push to $remote/$branch failed $attempts times"

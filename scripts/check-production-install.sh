#!/usr/bin/env bash
# What the Docker image does, without a Docker engine: copy the built service into an empty directory,
# install production dependencies only (npm ci --omit=dev), start `node dist/main.js`, and expect 200
# from /healthz and /readyz, then a clean exit on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/main.js ] || npm run build

work="$(mktemp -d)"
pid=""
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cp package.json package-lock.json "$work/"
cp -r dist "$work/dist"
# The status page's stylesheet and script (the Dockerfile copies them beside dist/ too).
cp -r public "$work/public"
(cd "$work" && npm ci --omit=dev --no-audit --no-fund)
if [ -d "$work/node_modules/typescript" ] || [ -d "$work/node_modules/jest" ]; then
  echo "check-production-install: dev dependencies were installed" >&2
  exit 1
fi

# The heap limits the image sets (ENV NODE_OPTIONS in the Dockerfile), so this runs what the image runs.
node_options="$(sed -n 's/^ENV NODE_OPTIONS="\(.*\)"$/\1/p' Dockerfile)"
[ -n "$node_options" ] || { echo "check-production-install: no ENV NODE_OPTIONS line in the Dockerfile" >&2; exit 1; }

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
token="$(node -e "console.log(require('crypto').randomBytes(16).toString('hex'))")"
(
  cd "$work"
  exec env -i PATH="$PATH" HOME="$work" NODE_ENV=production NODE_OPTIONS="$node_options" REPO_OWNER=acme REPO_NAME=gitops \
    WEBHOOK_TOKEN="$token" DRY_RUN=true HOST=127.0.0.1 PORT="$port" DATABASE_URL="sqlite:$work/data/rollback.db" \
    node dist/main.js
) >"$work/service.log" 2>&1 &
pid=$!

# Wait (bounded) until the service answers, then check both probes.
node -e "
const base = 'http://127.0.0.1:$port';
const deadline = Date.now() + 20000;
(async () => {
  for (;;) {
    try { const r = await fetch(base + '/healthz'); if (r.status === 200) break; } catch {}
    if (Date.now() > deadline) { console.error('no answer from /healthz within 20 s'); process.exit(1); }
    await new Promise((r) => setTimeout(r, 100));
  }
  for (const path of ['/healthz', '/readyz']) {
    const r = await fetch(base + path);
    console.log('check-production-install: GET ' + path + ' -> ' + r.status + ' ' + (await r.text()));
    if (r.status !== 200) process.exit(1);
  }
  // The status page renders (Preact is a production dependency) and finds its stylesheet and script.
  for (const path of ['/ui/login', '/ui/static/ui.css', '/ui/static/ui.js']) {
    const r = await fetch(base + path);
    console.log('check-production-install: GET ' + path + ' -> ' + r.status + ' ' + r.headers.get('content-type'));
    if (r.status !== 200) process.exit(1);
  }
})();
" || { cat "$work/service.log" >&2; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
if [ "$status" -ne 0 ]; then
  echo "check-production-install: SIGTERM exit status $status" >&2
  cat "$work/service.log" >&2
  exit 1
fi
echo "check-production-install: ok (production install, healthz and readyz 200, clean SIGTERM exit)"

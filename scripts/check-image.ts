/**
 * `npm run check:image`: what `docker build .` and the image would do, proved without a Docker engine.
 *
 * 1. The build context: exactly the files Docker sends, computed by applying `.dockerignore` with
 *    @balena/dockerignore (a port of Docker's own matcher), copied into an empty folder.
 * 2. The Dockerfile, parsed (dockerfile-ast), never restated here: every `COPY` source must be in that
 *    context (or in the stage it names with --from), before anything runs.
 * 3. Its stages in order, each in a folder standing for the stage's root file system: WORKDIR, ENV,
 *    COPY and RUN as written (absolute paths in a RUN are moved under the stage's folder; `apt-get install`
 *    checks the package is on this machine instead of installing it; `chown` maps the image's `node`
 *    user to its uid 1000).
 * 4. The final stage's CMD, started as the image starts it (its ENV, NODE_OPTIONS included, its USER's
 *    uid when this runs as root, its WORKDIR), with the routes example as ROUTES_FILE; its HEALTHCHECK
 *    command; the probes, the status page's files, one webhook answered; SIGTERM, exit 0.
 * 5. Every other place that builds the image: docker-compose.yml (`docker-compose config`: valid, and
 *    each service's build context and Dockerfile) and the release workflow's build-push step.
 *
 * `--context-only` stops after 2 and 5 (no install, no start). Exit 1 with every problem named.
 */
import ignore from '@balena/dockerignore';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import { DockerfileParser, type Copy, type Env, type From, type Healthcheck, type JSONInstruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';

const ROOT = resolve(__dirname, '..');

/** The official node image's unprivileged user (`USER node` in the Dockerfile): uid and gid 1000. */
const IMAGE_USERS: Record<string, { uid: number; gid: number }> = { node: { uid: 1000, gid: 1000 } };

// ---------------------------------------------------------------------------------------------------
// The build context

export interface BuildContext {
  root: string;
  /** Files and folders Docker sends, relative, with forward slashes. */
  files: Set<string>;
  dirs: Set<string>;
  /** Why `path` (relative) is not sent: the .dockerignore line that excludes it, if one does. */
  excludedBy(path: string): string | undefined;
}

function dockerignoreLines(root: string): string[] {
  const file = join(root, '.dockerignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** The files Docker would send from `root`: every file under it that `.dockerignore` leaves. */
export function readBuildContext(root: string): BuildContext {
  const lines = dockerignoreLines(root);
  const matcher = ignore().add(lines);
  const exceptions = lines.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/^\/+/, ''));
  // An excluded folder is walked only when an exception could bring something under it back (Docker does the same).
  const mayReinclude = (dir: string) => exceptions.some((pattern) => pattern.startsWith(`${dir}/`) || /[*?[]/.test(pattern.split('/')[0] ?? ''));
  const files = new Set<string>();
  const dirs = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        const excluded = matcher.ignores(path);
        if (excluded && !mayReinclude(path)) continue;
        if (!excluded) dirs.add(path);
        walk(path);
      } else if (!matcher.ignores(path)) {
        files.add(path);
        for (let parent = dirname(path); parent !== '.'; parent = dirname(parent)) dirs.add(parent);
      }
    }
  };
  walk('');
  const excludedBy = (path: string) => {
    const parts = path.split('/');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i]!;
      if (line.startsWith('!')) continue;
      const one = ignore().add([line]);
      for (let n = parts.length; n > 0; n--) if (one.ignores(parts.slice(0, n).join('/'))) return `.dockerignore: '${line}'`;
    }
    return undefined;
  };
  return { root, files, dirs, excludedBy };
}

/** Copies the context's files into `dest` (an empty folder), modes kept. */
export function copyBuildContext(context: BuildContext, dest: string): void {
  for (const file of context.files) {
    mkdirSync(dirname(join(dest, file)), { recursive: true });
    cpSync(join(context.root, file), join(dest, file), { preserveTimestamps: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// The Dockerfile

export type Step =
  | { kind: 'workdir'; path: string; line: number }
  | { kind: 'env'; vars: Record<string, string>; line: number }
  | { kind: 'user'; user: string; line: number }
  | { kind: 'copy'; from?: string; sources: string[]; dest: string; line: number }
  | { kind: 'run'; command: string; line: number }
  | { kind: 'cmd'; argv: string[]; line: number }
  | { kind: 'healthcheck'; argv: string[]; line: number };

export interface Stage {
  index: number;
  name?: string;
  image: string;
  steps: Step[];
}

/** An ENV value as Docker reads it: quotes removed, backslash escapes resolved (outside single quotes). */
export function unquoteEnvValue(raw: string): string {
  let out = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote !== "'" && c === '\\' && i + 1 < raw.length) out += raw[++i];
    else if ((c === '"' || c === "'") && (quote === undefined || quote === c)) quote = quote ? undefined : c;
    else out += c;
  }
  return out;
}

/** Instructions that change nothing this check follows. */
const NOTHING_TO_FOLLOW = new Set(['EXPOSE', 'VOLUME', 'LABEL', 'STOPSIGNAL', 'MAINTAINER']);

/** The Dockerfile's stages; an instruction this check cannot follow is an error, so it is never silently skipped. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of DockerfileParser.parse(text).getInstructions()) {
    const keyword = instruction.getKeyword();
    const line = instruction.getRange().start.line + 1;
    if (keyword === 'FROM') {
      const from = instruction as From;
      stages.push({ index: stages.length, name: from.getBuildStage() ?? undefined, image: from.getImage() ?? '', steps: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`Dockerfile line ${line}: ${keyword} before any FROM`);
    if (NOTHING_TO_FOLLOW.has(keyword)) continue;
    const args = instruction.getArguments().map((a) => a.getValue());
    switch (keyword) {
      case 'WORKDIR':
        stage.steps.push({ kind: 'workdir', path: args.join(' '), line });
        break;
      case 'ENV':
        stage.steps.push({ kind: 'env', vars: Object.fromEntries((instruction as Env).getProperties().map((p) => [p.getName(), unquoteEnvValue(p.getValue() ?? '')])), line });
        break;
      case 'USER':
        stage.steps.push({ kind: 'user', user: args[0] ?? '', line });
        break;
      case 'COPY': {
        const copy = instruction as Copy;
        const json = copy.getJSONStrings().map((s) => s.getJSONValue());
        const paths = json.length > 0 ? json : args.filter((a) => !a.startsWith('--'));
        const unsupported = copy.getFlags().filter((f) => f.getName() !== 'from');
        if (unsupported.length > 0) throw new Error(`Dockerfile line ${line}: COPY --${unsupported[0]!.getName()} is not followed by scripts/check-image.ts yet`);
        if (paths.length < 2) throw new Error(`Dockerfile line ${line}: COPY needs a source and a destination`);
        stage.steps.push({ kind: 'copy', from: copy.getFromFlag()?.getValue() ?? undefined, sources: paths.slice(0, -1), dest: paths[paths.length - 1]!, line });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', command: instruction.getArgumentsContent() ?? '', line });
        break;
      case 'CMD': {
        const json = (instruction as JSONInstruction).getJSONStrings().map((s) => s.getJSONValue());
        if (json.length === 0) throw new Error(`Dockerfile line ${line}: CMD in shell form; the image's PID 1 would be a shell that does not pass SIGTERM on (use the exec form)`);
        stage.steps.push({ kind: 'cmd', argv: json, line });
        break;
      }
      case 'HEALTHCHECK': {
        const content = (instruction as Healthcheck).getArgumentsContent() ?? '';
        const match = /\bCMD\s+(\[.*\])\s*$/s.exec(content);
        if (!match) throw new Error(`Dockerfile line ${line}: HEALTHCHECK without an exec-form CMD is not followed by scripts/check-image.ts yet`);
        stage.steps.push({ kind: 'healthcheck', argv: JSON.parse(match[1]!) as string[], line });
        break;
      }
      default:
        throw new Error(`Dockerfile line ${line}: ${keyword} is not followed by scripts/check-image.ts yet (teach it, so the check keeps proving the image)`);
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile: no FROM');
  return stages;
}

function stageByReference(stages: Stage[], reference: string, before: number): Stage | undefined {
  return stages.slice(0, before).find((s) => s.name === reference || String(s.index) === reference);
}

function sourceMatches(context: BuildContext, source: string): string[] {
  const path = posix.normalize(source.replace(/^\/+/, '')).replace(/^\.\/?/, '').replace(/\/$/, '');
  if (path === '' || path === '.') return ['.'];
  if (/[*?[]/.test(path)) {
    const isMatch = picomatch(path, { dot: true });
    return [...context.files, ...context.dirs].filter((p) => isMatch(p));
  }
  return context.files.has(path) || context.dirs.has(path) ? [path] : [];
}

/**
 * Every COPY of the Dockerfile at `root` checked against the build context Docker would send from it:
 * a source must be in the context (not hidden by .dockerignore, not missing), a `--from` must name an
 * earlier stage. Returns the problems, each with its Dockerfile line; empty when the build can start.
 */
export function checkCopySources(root: string, dockerfile = 'Dockerfile'): string[] {
  const problems: string[] = [];
  let stages: Stage[];
  try {
    stages = parseDockerfile(readFileSync(join(root, dockerfile), 'utf8'));
  } catch (error) {
    return [(error as Error).message];
  }
  const context = readBuildContext(root);
  for (const stage of stages) {
    for (const step of stage.steps) {
      if (step.kind !== 'copy') continue;
      if (step.from !== undefined) {
        if (!stageByReference(stages, step.from, stage.index) && !step.from.includes(':') && !step.from.includes('/'))
          problems.push(`${dockerfile} line ${step.line}: COPY --from=${step.from} names no earlier stage`);
        continue;
      }
      for (const source of step.sources) {
        if (sourceMatches(context, source).length > 0) continue;
        const path = source.replace(/^\.?\/+/, '');
        const onDisk = existsSync(join(root, path));
        const why = context.excludedBy(path);
        problems.push(
          onDisk && why
            ? `${dockerfile} line ${step.line}: COPY ${source} — not in the build context: ${why} excludes it (add '!${path}' after it, or stop copying it)`
            : `${dockerfile} line ${step.line}: COPY ${source} — no such file or folder in ${root}`,
        );
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// Following the stages

/** Absolute paths in a RUN command or an ENV value, moved under the stage's folder (its root file system). */
function rebase(text: string, rootfs: string): string {
  return text.replace(/(^|[\s=:'"])\/(?=[A-Za-z0-9._*-])/g, `$1${rootfs}/`);
}

/**
 * Commands a RUN finds first on its PATH: what cannot or must not happen on this machine, said aloud.
 * (Executables, not shell functions: the image's /bin/sh is dash, which allows no '-' in a function name.)
 */
function writeShims(dir: string): void {
  const realNpm = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
  const shims: Record<string, string> = {
    'apt-get': `
case "$1" in
  install)
    shift
    for p in "$@"; do
      case "$p" in -*) ;; *)
        dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \\
          || { echo "check-image: the image installs $p; this machine lacks it (apt-get install $p)" >&2; exit 1; } ;;
      esac
    done
    echo "check-image: apt-get install $*: already on this machine" ;;
  *) echo "check-image: skipped apt-get $* (this machine's packages are not the image's)" ;;
esac`,
    npm: `
if [ "$1" = cache ]; then echo "check-image: skipped npm $* (this machine's cache)"; exit 0; fi
exec ${realNpm} "$@"`,
    chown: `
if [ "$(id -u)" != 0 ]; then echo "check-image: not root, skipped chown $*"; exit 0; fi
# shellcheck disable=SC2046
set -- $(printf '%s\\n' "$@" | sed 's/^node:node$/1000:1000/; s/^node$/1000/')
exec /bin/chown "$@"`,
  };
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(shims)) writeFileSync(join(dir, name), `#!/bin/sh\nset -e\n${body.trim()}\n`, { mode: 0o755 });
}

interface StageState {
  rootfs: string;
  workdir: string;
  env: Record<string, string>;
  user?: string;
  cmd?: string[];
  healthcheck?: string[];
}

function log(message: string): void {
  process.stdout.write(`check-image: ${message}\n`);
}

function copyInto(fromPath: string, destPath: string, multiple: boolean): void {
  const isDir = statSync(fromPath).isDirectory();
  if (isDir) {
    mkdirSync(destPath, { recursive: true });
    cpSync(fromPath, destPath, { recursive: true, preserveTimestamps: true });
    return;
  }
  const target = multiple || destPath.endsWith('/') || (existsSync(destPath) && statSync(destPath).isDirectory()) ? join(destPath, basename(fromPath)) : destPath;
  mkdirSync(dirname(target), { recursive: true });
  cpSync(fromPath, target, { preserveTimestamps: true });
}

/** Follows every stage of `stages` with `contextDir` as the build context; returns the final stage's state. */
export function followStages(stages: Stage[], contextDir: string, work: string): StageState {
  const states: StageState[] = [];
  const npmCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  const shims = join(work, 'shims');
  writeShims(shims);
  for (const stage of stages) {
    const rootfs = join(work, `stage-${stage.index}${stage.name ? `-${stage.name}` : ''}`);
    mkdirSync(rootfs, { recursive: true });
    chmodSync(rootfs, 0o755);
    const state: StageState = { rootfs, workdir: '/', env: {} };
    states.push(state);
    log(`stage ${stage.index}${stage.name ? ` (${stage.name})` : ''} FROM ${stage.image}, in ${rootfs}`);
    for (const step of stage.steps) {
      switch (step.kind) {
        case 'workdir':
          state.workdir = posix.resolve(state.workdir, step.path);
          mkdirSync(join(rootfs, state.workdir), { recursive: true });
          break;
        case 'env':
          Object.assign(state.env, step.vars);
          break;
        case 'user':
          state.user = step.user;
          break;
        case 'copy': {
          const source = step.from === undefined ? undefined : stageByReference(stages, step.from, stage.index);
          const base = source ? join(states[source.index]!.rootfs, states[source.index]!.workdir) : contextDir;
          const destPath = join(rootfs, posix.resolve(state.workdir, step.dest)) + (step.dest.endsWith('/') ? '/' : '');
          for (const from of step.sources) {
            const fromPath = source ? join(states[source.index]!.rootfs, posix.resolve(states[source.index]!.workdir, from)) : join(base, from);
            if (!existsSync(fromPath)) throw new Error(`Dockerfile line ${step.line}: COPY ${step.from ? `--from=${step.from} ` : ''}${from}: not there`);
            copyInto(fromPath, destPath, step.sources.length > 1);
          }
          log(`line ${step.line}: COPY ${step.from ? `--from=${step.from} ` : ''}${step.sources.join(' ')} ${step.dest}`);
          break;
        }
        case 'run': {
          log(`line ${step.line}: RUN ${step.command}`);
          const env = Object.fromEntries(Object.entries(state.env).map(([k, v]) => [k, rebase(v, rootfs)]));
          const result = spawnSync('/bin/sh', ['-c', rebase(step.command, rootfs)], {
            cwd: join(rootfs, state.workdir),
            env: { PATH: `${shims}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? rootfs, npm_config_cache: npmCache, ...env },
            stdio: 'inherit',
          });
          if (result.status !== 0) throw new Error(`Dockerfile line ${step.line}: RUN failed (exit ${result.status ?? result.signal})`);
          break;
        }
        case 'cmd':
          state.cmd = step.argv;
          break;
        case 'healthcheck':
          state.healthcheck = step.argv;
          break;
      }
    }
  }
  return states[states.length - 1]!;
}

// ---------------------------------------------------------------------------------------------------
// Running the image's command

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolvePort(port));
    });
  });
}

function imageUserIds(user: string | undefined): { uid: number; gid: number } | undefined {
  if (!user) return undefined;
  const [name = '', group] = user.split(':');
  if (/^\d+$/.test(name)) return { uid: Number(name), gid: Number(group ?? name) };
  return IMAGE_USERS[name];
}

/** argv run as the image's USER (its uid when this runs as root), or as this user otherwise. */
function asImageUser(argv: string[], user: string | undefined): string[] {
  if (!user || user === 'root' || user === '0') return argv;
  const ids = imageUserIds(user);
  if (!ids) throw new Error(`USER ${user}: scripts/check-image.ts does not know its uid (add it to IMAGE_USERS)`);
  if (process.getuid?.() !== 0) {
    log(`not root: runs as this user, not as USER ${user} (uid ${ids.uid})`);
    return argv;
  }
  return ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', ...argv];
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the final stage's CMD as the image would and checks it serves; SIGTERM ends it with exit 0. */
export async function runImage(state: StageState, problems: string[]): Promise<void> {
  if (!state.cmd) throw new Error('Dockerfile: the final stage has no CMD');
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const cwd = join(state.rootfs, state.workdir);
  const imageEnv = Object.fromEntries(Object.entries(state.env).map(([k, v]) => [k, rebase(v, state.rootfs)]));
  // The image's ENV, then what a user sets (dry run, so nothing reaches GitHub), on a loopback port here.
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: cwd,
    ...imageEnv,
    WEBHOOK_TOKEN: token,
    REPO_OWNER: 'acme',
    REPO_NAME: 'gitops',
    DRY_RUN: 'true',
    ROUTES_FILE: 'deploy/routes.example.yaml',
    HOST: '127.0.0.1',
    PORT: String(port),
  };
  log(`starting ${state.cmd.join(' ')} in ${cwd} as USER ${state.user ?? 'root'} with the image's ENV (${Object.keys(state.env).join(', ')})`);
  const argv = asImageUser(state.cmd, state.user);
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  const expect = (ok: boolean, what: string) => {
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
    if (!ok) problems.push(what);
  };
  try {
    await Promise.race([
      until('GET /healthz answers 200', 30_000, async () => ((await fetch(`${base}/healthz`)).status === 200 ? true : undefined)),
      exited.then((code) => {
        throw new Error(`the service exited (${code}) before answering`);
      }),
    ]);
    if (state.healthcheck) {
      const hc = asImageUser(state.healthcheck, state.user);
      const result = spawnSync(hc[0]!, hc.slice(1), { cwd, env, timeout: 5000 });
      expect(result.status === 0, `HEALTHCHECK ${state.healthcheck.join(' ').slice(0, 60)}… exits 0 (got ${result.status})`);
    }
    for (const [path, type] of [
      ['/readyz', 'application/json'],
      ['/ui/login', 'text/html'],
      ['/ui/static/ui.css', 'text/css'],
      ['/ui/static/ui.js', 'javascript'],
    ] as const) {
      const answer = await fetch(`${base}${path}`);
      expect(answer.status === 200 && (answer.headers.get('content-type') ?? '').includes(type), `GET ${path} → ${answer.status} ${answer.headers.get('content-type')}`);
    }
    const failed = randomBytes(20).toString('hex');
    const healthy = randomBytes(20).toString('hex');
    const webhook = await fetch(`${base}/v1/webhooks/argocd`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event_type: 'argo-degraded', client_payload: { app: 'podinfo-prod', failed_revision: failed, healthy_revision: healthy } }),
    });
    const answer = (await webhook.json()) as { healthy_revision?: string; restore?: Array<{ from?: string }> };
    // "from": "route" shows the routes example was read (yaml, loaded lazily, is a production dependency).
    expect(
      webhook.status === 202 && answer.healthy_revision === healthy && answer.restore?.[0]?.from === 'route',
      `POST /v1/webhooks/argocd (a Degraded rollback, dry run, routed by the routes example) → ${webhook.status} ${JSON.stringify(answer)}`,
    );
    const database = /^sqlite:(.*)$/.exec(imageEnv.DATABASE_URL ?? '')?.[1];
    if (database) {
      const owner = existsSync(database) ? lstatSync(database).uid : undefined;
      const expected = process.getuid?.() === 0 ? imageUserIds(state.user)?.uid ?? 0 : process.getuid?.();
      expect(owner === expected, `the SQLite database is at the image's DATABASE_URL (${relative(state.rootfs, database)}), written by uid ${owner} (expected ${expected})`);
    }
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    expect(code === 0, `SIGTERM: exit ${code}`);
    if (problems.length > 0) process.stderr.write(output);
  }
}

// ---------------------------------------------------------------------------------------------------
// Other places that build the image

interface BuildReference {
  where: string;
  context: string;
  dockerfile: string;
}

/** docker-compose.yml: valid from a clean checkout (no .env) and with .env.example, and each service's build. */
export function composeBuilds(root: string, problems: string[]): BuildReference[] {
  const dir = mkdtempSync(join(tmpdir(), 'check-image-compose-'));
  try {
    const emptyEnv = join(dir, 'empty.env');
    writeFileSync(emptyEnv, '');
    const run = (envFile: string) =>
      spawnSync('docker-compose', ['--env-file', envFile, '--project-directory', root, '-f', join(root, 'docker-compose.yml'), '--profile', 'postgres', 'config'], {
        env: { PATH: process.env.PATH ?? '' },
        encoding: 'utf8',
      });
    const clean = run(emptyEnv);
    if (clean.error || clean.status !== 0) {
      problems.push(`docker-compose config (no .env): ${clean.error?.message ?? clean.stderr.trim()}`);
      return [];
    }
    const example = run(join(root, '.env.example'));
    if (example.status !== 0) problems.push(`docker-compose config (.env from .env.example): ${example.stderr.trim()}`);
    const config = parseYaml(clean.stdout) as { services: Record<string, { build?: { context: string; dockerfile?: string } }> };
    return Object.entries(config.services)
      .filter(([, service]) => service.build)
      .map(([name, service]) => ({ where: `docker-compose.yml service ${name}`, context: service.build!.context, dockerfile: service.build!.dockerfile ?? 'Dockerfile' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The release workflow's docker/build-push-action steps: their context and Dockerfile. */
export function releaseBuilds(root: string): BuildReference[] {
  const file = join(root, '.github', 'workflows', 'release.yml');
  if (!existsSync(file)) return [];
  const workflow = parseYaml(readFileSync(file, 'utf8')) as { jobs: Record<string, { steps?: Array<{ uses?: string; with?: Record<string, string> }> }> };
  const builds: BuildReference[] = [];
  for (const [job, { steps = [] }] of Object.entries(workflow.jobs)) {
    for (const step of steps) {
      if (!step.uses?.startsWith('docker/build-push-action@')) continue;
      // Without `context` the action builds the Git context: the repository at the tag, .dockerignore applied.
      const context = resolve(root, step.with?.context ?? '.');
      builds.push({ where: `.github/workflows/release.yml job ${job}`, context, dockerfile: step.with?.file ? relative(context, resolve(root, step.with.file)) : 'Dockerfile' });
    }
  }
  return builds;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const contextOnly = process.argv.includes('--context-only');
  const problems: string[] = [];

  const builds: BuildReference[] = [{ where: 'docker build .', context: ROOT, dockerfile: 'Dockerfile' }, ...composeBuilds(ROOT, problems), ...releaseBuilds(ROOT)];
  const checked = new Map<string, string[]>();
  for (const build of builds) {
    const key = `${build.context}\0${build.dockerfile}`;
    const found = checked.get(key) ?? checkCopySources(build.context, build.dockerfile);
    const first = !checked.has(key);
    checked.set(key, found);
    log(`${found.length === 0 ? 'ok  ' : 'FAIL'} ${build.where}: context ${relative(ROOT, build.context) || '.'}, ${build.dockerfile}: every COPY source is in the context`);
    if (first) problems.push(...found.map((p) => `${build.where}: ${p}`));
  }
  if (problems.length > 0 || contextOnly) return report(problems, 'every COPY source is in the build context (--context-only: nothing built or run)');

  const work = mkdtempSync(join(tmpdir(), 'check-image-'));
  chmodSync(work, 0o755);
  try {
    const context = readBuildContext(ROOT);
    const contextDir = join(work, 'context');
    copyBuildContext(context, contextDir);
    log(`build context: ${context.files.size} files (.dockerignore applied), copied to ${contextDir}`);
    const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    const final = followStages(stages, contextDir, work);
    const modules = join(final.rootfs, final.workdir, 'node_modules');
    const dev = ['typescript', 'jest', 'tsx', 'esbuild'].filter((name) => existsSync(join(modules, name)));
    if (dev.length > 0) problems.push(`the final stage has dev dependencies: ${dev.join(', ')}`);
    await runImage(final, problems);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return report(problems, 'the image builds from its build context and serves');
}

function report(problems: string[], success: string): number {
  if (problems.length === 0) {
    log(`ok: ${success}`);
    return 0;
  }
  process.stderr.write(`check-image: ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  return 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`check-image: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}

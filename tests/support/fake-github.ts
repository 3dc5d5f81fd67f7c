import { spawnSync } from 'node:child_process';
import { createVerify } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv from 'ajv';
import dispatchSchema from '../fixtures/github-create-dispatch-event.request.schema.json';
import { RequestSignal } from './request-signal';

/** One request the fake GitHub received. */
export interface ReceivedDispatch {
  owner: string;
  repo: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
  body: { event_type?: string; client_payload?: Record<string, unknown> } | undefined;
  /** Errors from GitHub's schema (and the 64 KB rule); empty when the body is valid. */
  schemaErrors: string[];
  receivedAt: number;
  status: number;
}

/** A scripted answer for the next dispatch: a status with headers and GitHub-style message, or a hang. */
export type ScriptedAnswer =
  | { status: number; headers?: Record<string, string>; message?: string; delayMs?: number }
  | { hang: true };

const DOCS = 'https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event';
const MESSAGES: Record<number, string> = {
  400: 'Problems parsing JSON',
  401: 'Bad credentials',
  403: 'Resource not accessible by personal access token',
  404: 'Not Found',
  410: 'Repository access blocked',
  422: 'Invalid request.',
  429: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  500: 'Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export interface FakeGitHubOptions {
  token: string;
  /** Repositories ("owner/repo") that exist; others answer 404. */
  repos: string[];
  /** "owner/repo" → a bare git repository whose history GET /commits reads (real git). */
  gitRepos?: Record<string, string>;
  /** Repositories the token may only read (permissions.push false); others it may push to. */
  readOnly?: string[];
  /** Repositories whose Actions API the token may not read (403, as for a token without Actions: read). */
  actionsDenied?: string[];
  /** A GitHub App: its id and public key (to verify its JWTs), which installation covers which repository. */
  app?: { id: number; publicKey: string; installations: Record<string, number>; tokenTtlMs?: number; revoked?: number[] };
  /**
   * Serve the web pages runs link to from this server (as GitHub Enterprise Server serves its web pages
   * from its API host), so a browser can follow a run's html_url offline; otherwise links name github.com.
   */
  webPages?: boolean;
  /** What GET …/actions/workflows lists (default: the shipped gitops-rollback workflow, active). */
  workflows?: Array<{ name: string; path: string; state: string }>;
  /** How long each API answer takes, ms (drawn per request): GitHub answers in 100–400 ms. Default 0. */
  latencyMs?: () => number;
  /**
   * GitHub's documented secondary rate limits: at most 100 requests in flight, 900 points a minute (a GET
   * is 1, a POST 5) and 80 content-creating requests a minute; past one, 403 with GitHub's message and
   * `retry-after: 60`, counted in `secondaryLimited`.
   */
  secondaryLimits?: boolean;
}

/** A job of a run, as GET /repos/{owner}/{repo}/actions/runs/{id}/jobs lists it (GitHub's field names). */
export interface FakeJob {
  id: number;
  run_id: number;
  name: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  html_url: string;
  steps: Array<{ name: string; status: string; conclusion: string | null; number: number }>;
}

/** A workflow run as GET /repos/{owner}/{repo}/actions/runs lists it (GitHub's field names). */
export interface FakeRun {
  id: number;
  name: string;
  display_title: string;
  event: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  html_url: string;
  head_branch: string;
  run_attempt: number;
  created_at: string;
  updated_at: string;
}

/** A pull request as GET /repos/{owner}/{repo}/pulls lists it. */
export interface FakePull {
  number: number;
  state: 'open' | 'closed';
  html_url: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { ref: string; label: string };
  base: { ref: string };
}

/** A GET the fake answered (path without query, the query, the status). */
export interface ReceivedRead {
  path: string;
  query: Record<string, string>;
  status: number;
  receivedAt: number;
  /** When the answer ended (its body sent, or the client hung up). */
  endedAt?: number;
}

/**
 * A real local HTTP server that answers POST /repos/{owner}/{repo}/dispatches like GitHub: 401 for a
 * wrong token, 404 for an unknown repository, 422 with a validation-error body when the body breaks
 * GitHub's schema, 204 otherwise, with GitHub's rate-limit headers on every answer. Tests script
 * answers with `script()`; every request is recorded.
 */
export class FakeGitHub {
  readonly received: ReceivedDispatch[] = [];
  readonly reads: ReceivedRead[] = [];
  readonly runs: FakeRun[] = [];
  readonly pulls: FakePull[] = [];
  readonly jobs: FakeJob[] = [];
  /** Job id → its plain-text log, served from a signed blob address like GitHub's (no token wanted there). */
  readonly jobLogs = new Map<number, string>();
  private nextRunId = 9_000_000_001;
  /**
   * How long a new run stays out of GET …/actions/runs (GitHub's run list is eventually consistent: a run
   * the dispatch just started may be listed seconds later). 0: listed at once.
   */
  runListDelayMs = 0;
  /**
   * When above 0, a job log's address sends the log, then one more line every this many ms and never
   * ends: a log host that trickles (until the client hangs up).
   */
  logTrickleMs = 0;
  private readonly listedFrom = new Map<number, number>();
  /** Installation tokens issued, newest last (what GitHub's POST /app/installations/{id}/access_tokens gave). */
  readonly installationTokens: Array<{ token: string; installationId: number; expiresAt: number }> = [];
  private readonly readQueue: Array<{ status: number; headers?: Record<string, string>; message?: string }> = [];
  private readonly queue: ScriptedAnswer[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly server: Server;
  private readonly validate = new Ajv({ allErrors: true, strict: false }).compile(dispatchSchema);
  private readonly signal = new RequestSignal();
  /** Called after a dispatch was answered 204, as GitHub then starts the workflow. */
  onAccepted: ((dispatch: ReceivedDispatch) => void) | undefined;
  private remaining = 5000;
  private inFlight = 0;
  /** Requests answered 403 for a secondary rate limit (options.secondaryLimits). */
  secondaryLimited = 0;
  private readonly recent: Array<{ at: number; points: number; creates: boolean }> = [];
  private apiInFlight = 0;
  /** The most dispatches that were ever open at the same time. */
  maxConcurrent = 0;
  /** GETs waiting on holdReads(). */
  heldReads = 0;
  private readGate: Promise<void> | undefined;
  url = '';

  constructor(private readonly options: FakeGitHubOptions) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers for the next dispatches, in order; after they run out every valid dispatch gets 204. */
  script(...answers: ScriptedAnswer[]): void {
    this.queue.push(...answers);
  }

  /**
   * The App is uninstalled from `repository` and installed again: a new installation id covers it. The
   * old installation's tokens no longer open it, and the old id is unknown to GitHub (404).
   */
  reinstallApp(repository: string, installationId: number): void {
    const app = this.options.app;
    if (!app) throw new Error('no GitHub App configured');
    app.installations[repository] = installationId;
  }

  /** Drops hanging requests' sockets (as a crashed GitHub edge would) and clears the script. */
  reset(): void {
    this.queue.length = 0;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  /** True when the request carries the PAT, or an unexpired installation token of an installation covering the repository. */
  private authorized(req: IncomingMessage, repository: string): boolean {
    const bearer = req.headers.authorization?.replace(/^Bearer /, '');
    if (bearer === this.options.token) return true;
    const issued = this.installationTokens.find((t) => t.token === bearer);
    return issued !== undefined && issued.expiresAt > Date.now() && this.options.app?.installations[repository] === issued.installationId;
  }

  /** Verifies the App's JWT (RS256, iss = the App ID, not expired) with the App's public key. */
  private validAppJwt(req: IncomingMessage): boolean {
    const app = this.options.app;
    const [header, payload, signature] = (req.headers.authorization?.replace(/^Bearer /, '') ?? '').split('.');
    if (!app || !header || !payload || !signature) return false;
    const verifier = createVerify('RSA-SHA256');
    verifier.update(`${header}.${payload}`);
    if (!verifier.verify(app.publicKey, Buffer.from(signature, 'base64url'))) return false;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iss?: unknown; exp?: number; iat?: number };
    const nowSeconds = Date.now() / 1000;
    return String(claims.iss) === String(app.id) && (claims.exp ?? 0) > nowSeconds && (claims.iat ?? Infinity) <= nowSeconds + 60;
  }

  /** The App's endpoints: POST /app/installations/{id}/access_tokens and GET /repos/{owner}/{repo}/installation. */
  private handleApp(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const tokenMatch = req.method === 'POST' ? /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path) : null;
    const installMatch = req.method === 'GET' ? /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path) : null;
    if (!tokenMatch && !installMatch) return false;
    const app = this.options.app;
    const error = (status: number, message: string) => this.answer(res, status, {}, { message, documentation_url: 'https://docs.github.com/rest/apps/apps', status: String(status) });
    if (!app || !this.validAppJwt(req)) {
      error(401, 'A JSON web token could not be decoded');
    } else if (installMatch) {
      const id = app.installations[`${installMatch[1]}/${installMatch[2]}`];
      if (id === undefined) error(404, 'Not Found');
      else this.answer(res, 200, {}, { id, app_id: app.id, account: { login: installMatch[1] }, permissions: { contents: 'write', actions: 'read' } });
    } else {
      const installationId = Number(tokenMatch![1]);
      if (!Object.values(app.installations).includes(installationId)) error(404, 'Not Found');
      else if (app.revoked?.includes(installationId)) error(401, 'Bad credentials');
      else {
        const expiresAt = Date.now() + (app.tokenTtlMs ?? 3_600_000);
        const token = `fake-installation-token-${installationId}-${this.installationTokens.length + 1}`;
        this.installationTokens.push({ token, installationId, expiresAt });
        this.answer(res, 201, {}, { token, expires_at: new Date(expiresAt).toISOString(), permissions: { contents: 'write', actions: 'read' }, repository_selection: 'selected' });
      }
    }
    this.signal.changed();
    return true;
  }

  /**
   * Holds every GET that arrives from now on until the returned release() is called (a slow GitHub), so a
   * test can act while a reader is mid-look: `waitFor((g) => g.heldReads > 0)` says one is waiting.
   */
  holdReads(): () => void {
    let release!: () => void;
    this.readGate = new Promise<void>((resolve) => (release = resolve));
    return () => {
      this.readGate = undefined;
      release();
    };
  }

  /** Answers for the next GETs (after the token and repository checks), in order; then real answers. */
  scriptReads(...answers: Array<{ status: number; headers?: Record<string, string>; message?: string }>): void {
    this.readQueue.push(...answers);
  }

  private blobSignature(jobId: number): string {
    return Buffer.from(`job-${jobId}-signed`).toString('base64url');
  }

  /**
   * The signed log address: text/plain for the right signature. A request that carries an Authorization
   * header is refused (400), so a client that forwards its GitHub token to the blob host fails its test.
   */
  private logBlob(req: IncomingMessage, res: ServerResponse, jobId: number, sig: string | null): void {
    const read: ReceivedRead = { path: `/_blob/job-logs/${jobId}`, query: {}, status: 0, receivedAt: Date.now() };
    this.reads.push(read);
    const log = this.jobLogs.get(jobId);
    read.status = req.headers.authorization ? 400 : log === undefined || sig !== this.blobSignature(jobId) ? 403 : 200;
    res.once('close', () => {
      read.endedAt = Date.now();
      this.signal.changed();
    });
    if (read.status === 200 && this.logTrickleMs > 0) {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).write(`${log}\n`);
      const trickle = setInterval(() => res.write(`${new Date().toISOString()} waiting for the runner\n`), this.logTrickleMs);
      res.once('close', () => clearInterval(trickle));
    } else if (read.status === 200) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(log);
    else res.writeHead(read.status, { 'content-type': 'application/xml' }).end(read.status === 400 ? '<Error><Code>InvalidAuthenticationInfo</Code></Error>' : '<Error><Code>AuthenticationFailed</Code></Error>');
    this.signal.changed();
  }

  /** A run's web page (options.webPages): its title and state, as plain HTML. */
  private runPage(res: ServerResponse, id: number): void {
    const run = this.runs.find((r) => r.id === id);
    const escape = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const body = run
      ? `<!doctype html><html lang="en"><head><link rel="icon" href="data:,"><title>${escape(run.display_title)}</title></head><body><h1>${escape(run.display_title)}</h1><p>${run.status} ${run.conclusion ?? ''}</p></body></html>`
      : '<!doctype html><html lang="en"><head><title>Not Found</title></head><body>Not Found</body></html>';
    res.writeHead(run ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  }

  /** Records a workflow run (what GitHub does when a dispatch starts the workflow). */
  addRun(displayTitle: string, status: FakeRun['status'] = 'queued'): FakeRun {
    const now = new Date().toISOString();
    const id = this.nextRunId++;
    const run: FakeRun = { id, name: 'gitops-rollback', display_title: displayTitle, event: 'repository_dispatch', status, conclusion: null, html_url: `${this.options.webPages ? this.url : 'https://github.com'}/acme/gitops/actions/runs/${id}`, head_branch: 'main', run_attempt: 1, created_at: now, updated_at: now };
    this.runs.push(run);
    this.listedFrom.set(id, Date.now() + this.runListDelayMs);
    return run;
  }

  /**
   * Ends `run` in failure as GitHub shows one: a job "restore" whose steps before `step` succeeded, `step`
   * failed and the rest were skipped, with `log` as the job's log (GitHub's timestamp on each line).
   */
  failRun(run: FakeRun, failure: { step: string; log: string; conclusion?: string }): FakeJob {
    const names = ['Set up job', 'Check out the GitOps repository (full history, to reach the healthy revision)', 'Restore what the app renders from as of the healthy revision', 'Complete job'];
    const failedAt = Math.max(0, names.indexOf(failure.step));
    const id = run.id * 10 + 1;
    const job: FakeJob = {
      id,
      run_id: run.id,
      name: 'restore',
      status: 'completed',
      conclusion: failure.conclusion ?? 'failure',
      html_url: run.html_url.replace(/\/actions\/runs\/(\d+)$/, `/actions/runs/$1/job/${id}`),
      steps: names.map((name, i) => ({ name, status: 'completed', conclusion: i < failedAt ? 'success' : i === failedAt ? 'failure' : 'skipped', number: i + 1 })),
    };
    this.jobs.push(job);
    const stamp = new Date().toISOString().replace('Z', '0000Z');
    this.jobLogs.set(id, failure.log.split('\n').map((line) => `${stamp} ${line}`).join('\n'));
    this.updateRun(run, 'completed', failure.conclusion ?? 'failure');
    return job;
  }

  updateRun(run: FakeRun, status: FakeRun['status'], conclusion: string | null = null): void {
    run.status = status;
    run.conclusion = conclusion;
    run.updated_at = new Date().toISOString();
  }

  /** Dispatches that GitHub would have accepted (204). */
  accepted(): ReceivedDispatch[] {
    return this.received.filter((r) => r.status === 204);
  }

  /** Resolves once `predicate` holds, checked after every request; rejects after `timeoutMs`. */
  waitFor(predicate: (fake: this) => boolean, timeoutMs = 10_000): Promise<void> {
    return this.signal.waitFor(() => predicate(this), timeoutMs, () => `fake GitHub: condition not met (${this.received.length} requests so far)`);
  }

  private rateLimitHeaders(): Record<string, string> {
    return {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(this.remaining),
      'x-ratelimit-used': String(5000 - this.remaining),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': `FAKE:${this.received.length}`,
    };
  }

  private answer(res: ServerResponse, status: number, headers: Record<string, string> = {}, body?: unknown): void {
    const all = { ...this.rateLimitHeaders(), ...headers };
    if (body === undefined) {
      res.writeHead(status, all).end();
    } else {
      res.writeHead(status, { ...all, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    }
  }

  /** GET runs, commits and pulls, answered from what tests recorded and from the real bare repository. */
  private handleRead(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const page = this.options.webPages ? /^\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)$/.exec(url.pathname) : null;
    if (page) return this.runPage(res, Number(page[3]));
    const blob = /^\/_blob\/job-logs\/(\d+)$/.exec(url.pathname);
    if (blob) return this.logBlob(req, res, Number(blob[1]), url.searchParams.get('sig'));
    const query = Object.fromEntries(url.searchParams.entries());
    const match = /^\/repos\/([^/]+)\/([^/]+)(?:\/(actions\/runs|commits|pulls|actions\/workflows|actions\/runs\/\d+\/jobs|actions\/jobs\/\d+\/logs))?$/.exec(url.pathname);
    const read: ReceivedRead = { path: url.pathname, query, status: 0, receivedAt: Date.now() };
    this.reads.push(read);
    this.remaining = Math.max(0, this.remaining - 1);
    const finish = (status: number, body: unknown) => {
      read.status = status;
      this.answer(res, status, {}, body);
      this.signal.changed();
    };
    if (!match) return finish(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    const [, owner = '', repo = '', resource] = match;
    if (!this.authorized(req, `${owner}/${repo}`)) return finish(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    if (!this.options.repos.includes(`${owner}/${repo}`)) return finish(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
    const scripted = this.readQueue.shift();
    if (scripted) {
      read.status = scripted.status;
      this.answer(res, scripted.status, scripted.headers, { message: scripted.message ?? MESSAGES[scripted.status] ?? 'Error', documentation_url: 'https://docs.github.com/rest', status: String(scripted.status) });
      this.signal.changed();
      return;
    }
    if (resource === undefined) {
      const push = !(this.options.readOnly ?? []).includes(`${owner}/${repo}`);
      return finish(200, { id: 1296269, name: repo, full_name: `${owner}/${repo}`, private: true, default_branch: 'main', permissions: { admin: false, maintain: false, push, triage: push, pull: true } });
    }
    if (resource?.startsWith('actions/') && (this.options.actionsDenied ?? []).includes(`${owner}/${repo}`)) {
      return finish(403, { message: 'Resource not accessible by personal access token', documentation_url: 'https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository', status: '403' });
    }
    const perPage = Math.min(100, Number(query.per_page ?? 30));
    const jobsOf = /^actions\/runs\/(\d+)\/jobs$/.exec(resource);
    if (jobsOf) {
      const runId = Number(jobsOf[1]);
      if (!this.runs.some((r) => r.id === runId)) return finish(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/actions/workflow-jobs#list-jobs-for-a-workflow-run', status: '404' });
      const jobs = this.jobs.filter((j) => j.run_id === runId).slice(0, perPage);
      return finish(200, { total_count: jobs.length, jobs });
    }
    const logsOf = /^actions\/jobs\/(\d+)\/logs$/.exec(resource);
    if (logsOf) {
      // As GitHub: 302 to a short-lived signed address on another host, which wants no token.
      const jobId = Number(logsOf[1]);
      if (!this.jobLogs.has(jobId)) return finish(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/actions/workflow-jobs#download-job-logs-for-a-workflow-run', status: '404' });
      read.status = 302;
      this.answer(res, 302, { location: `${this.url}/_blob/job-logs/${jobId}?sig=${this.blobSignature(jobId)}` });
      this.signal.changed();
      return;
    }
    if (resource === 'actions/workflows') {
      const workflows = (this.options.workflows ?? [{ name: 'gitops-rollback', path: '.github/workflows/rollback.yml', state: 'active' }]).map((w, i) => ({ id: 161335 + i, node_id: `W_${i}`, ...w }));
      return finish(200, { total_count: workflows.length, workflows });
    }
    if (resource === 'actions/runs') {
      const since = query.created?.startsWith('>=') ? Date.parse(query.created.slice(2)) : 0;
      const matching = this.runs
        .filter((r) => (query.event === undefined || r.event === query.event) && Date.parse(r.created_at) >= since && Date.now() >= (this.listedFrom.get(r.id) ?? 0))
        .sort((a, b) => b.id - a.id);
      const page = Math.max(1, Number(query.page ?? 1));
      return finish(200, { total_count: matching.length, workflow_runs: matching.slice((page - 1) * perPage, page * perPage) });
    }
    if (resource === 'pulls') {
      const [headOwner, headRef] = (query.head ?? ':').split(':');
      const pulls = this.pulls.filter((p) => (query.head === undefined || (headOwner === owner && p.head.ref === headRef)) && (query.state === 'all' || p.state === (query.state ?? 'open')));
      return finish(200, pulls.slice(0, perPage));
    }
    const gitDir = this.options.gitRepos?.[`${owner}/${repo}`];
    if (!gitDir) return finish(409, { message: 'Git Repository is empty.', documentation_url: 'https://docs.github.com/rest/commits/commits#list-commits', status: '409' });
    const args = ['--git-dir', gitDir, 'log', `--max-count=${perPage}`, '--format=%H%x00%B%x00%cI%x1e', query.sha ?? 'HEAD'];
    if (query.since) args.push(`--since=${query.since}`);
    const log = spawnSync('git', args, { encoding: 'utf8' });
    if (log.status !== 0) return finish(404, { message: 'No commit found for SHA: ' + (query.sha ?? ''), documentation_url: 'https://docs.github.com/rest/commits/commits#list-commits', status: '404' });
    const commits = log.stdout
      .split('\x1e')
      .map((entry) => entry.replace(/^\n/, ''))
      .filter((entry) => entry.includes('\x00'))
      .map((entry) => {
        const [sha = '', message = '', date = ''] = entry.split('\x00');
        return { sha, html_url: `https://github.com/${owner}/${repo}/commit/${sha}`, commit: { message: message.trimEnd(), committer: { date }, author: { date } } };
      });
    return finish(200, commits);
  }

  /** Past a secondary limit (options.secondaryLimits): the reason, else undefined. Counts the request. */
  private overSecondaryLimit(method: string): string | undefined {
    const now = Date.now();
    while (this.recent.length > 0 && this.recent[0]!.at <= now - 60_000) this.recent.shift();
    const creates = method === 'POST';
    this.recent.push({ at: now, points: creates ? 5 : 1, creates });
    if (this.apiInFlight > 100) return 'more than 100 concurrent requests';
    if (this.recent.reduce((sum, r) => sum + r.points, 0) > 900) return 'more than 900 points in a minute';
    if (creates && this.recent.filter((r) => r.creates).length > 80) return 'more than 80 content-creating requests in a minute';
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://fake').pathname;
    if (this.handleApp(req, res, pathname)) return;
    if (!pathname.startsWith('/_blob/')) {
      this.apiInFlight += 1;
      res.once('close', () => (this.apiInFlight -= 1));
      const latency = this.options.latencyMs?.() ?? 0;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const limited = this.options.secondaryLimits ? this.overSecondaryLimit(req.method ?? 'GET') : undefined;
      if (limited) {
        this.secondaryLimited += 1;
        req.resume();
        this.answer(res, 403, { 'retry-after': '60' }, { message: `You have exceeded a secondary rate limit (${limited}). Please wait a few minutes before you try again.`, documentation_url: 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits', status: '403' });
        this.signal.changed();
        return;
      }
    }
    if (req.method === 'GET') {
      const gate = this.readGate;
      if (gate) {
        this.heldReads += 1;
        this.signal.changed();
        await gate;
        this.heldReads -= 1;
      }
      return this.handleRead(req, res);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const match = /^\/repos\/([^/]+)\/([^/]+)\/dispatches$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !match) {
      this.answer(res, 404, {}, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' });
      return;
    }
    const [, owner = '', repo = ''] = match;
    const record: ReceivedDispatch = {
      owner,
      repo,
      headers: req.headers,
      rawBody,
      body: undefined,
      schemaErrors: [],
      receivedAt: Date.now(),
      status: 0,
    };
    this.received.push(record);
    this.remaining = Math.max(0, this.remaining - 1);
    this.inFlight += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.inFlight);
    res.on('close', () => {
      this.inFlight -= 1;
    });

    const finish = (status: number, headers?: Record<string, string>, message?: string) => {
      record.status = status;
      this.answer(res, status, headers, status === 204 ? undefined : { message: message ?? MESSAGES[status] ?? 'Error', documentation_url: DOCS, status: String(status) });
      if (status === 204) this.onAccepted?.(record);
      this.signal.changed();
    };

    if (!this.authorized(req, `${owner}/${repo}`)) return finish(401);
    if (!this.options.repos.includes(`${owner}/${repo}`)) return finish(404);
    try {
      record.body = JSON.parse(rawBody) as ReceivedDispatch['body'];
    } catch {
      return finish(400);
    }
    if (!this.validate(record.body)) {
      record.schemaErrors = (this.validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
    } else if (JSON.stringify(record.body?.client_payload ?? {}).length >= 65_535) {
      record.schemaErrors = ['/client_payload must be less than 64 KB'];
    }
    if (record.schemaErrors.length > 0) return finish(422, {}, `Invalid request. ${record.schemaErrors.join('; ')}`);

    const scripted = this.queue.shift();
    if (scripted && 'hang' in scripted) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      this.signal.changed();
      return;
    }
    if (scripted?.delayMs) await new Promise((resolve) => setTimeout(resolve, scripted.delayMs));
    if (scripted) return finish(scripted.status, scripted.headers, scripted.message);
    finish(204);
  }
}

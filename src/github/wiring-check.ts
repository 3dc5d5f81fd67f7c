import { systemClock, type Clock } from '../clock';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { Metrics } from '../metrics/metrics';
import type { GitHubAnswer } from './classify-answer';
import type { GitHubClient } from './github-client';

/** One check of one repository: can the token see it, dispatch to it, read its Actions runs. */
export interface WiringCheck {
  repository: string;
  check: 'repository' | 'dispatch' | 'actions';
  ok: boolean;
  detail: string;
}

/** Every repository rollbacks can go to: the default and each route's (owner and repo fall back to the defaults). */
export function configuredRepositories(config: Config): string[] {
  const repos = new Set([`${config.github.owner}/${config.github.repo}`]);
  for (const rule of config.routes) repos.add(`${rule.owner ?? config.github.owner}/${rule.repo ?? config.github.repo}`);
  return [...repos];
}

const answered = (answer: GitHubAnswer) => (answer.kind === 'response' ? `GitHub answered ${answer.status}${answer.message ? `: ${answer.message}` : ''}` : `no answer from GitHub: ${answer.message}`);

/**
 * What GET /repos/{owner}/{repo} and GET …/actions/runs?per_page=1 say about the wiring. Pure: a
 * function of the two answers (the repository's JSON carries the token's `permissions`).
 */
export function interpretWiring(repository: string, repo: { answer: GitHubAnswer; data: unknown }, runs: { answer: GitHubAnswer } | undefined): WiringCheck[] {
  const status = repo.answer.kind === 'response' ? repo.answer.status : 0;
  if (status !== 200) {
    const remedy =
      status === 401
        ? 'check GH_PAT_WEBHOOK: missing, mistyped, expired or revoked'
        : status === 404 || status === 403
          ? 'check REPO_OWNER/REPO_NAME, the route or the Application\'s repoURL, and that the token (or the GitHub App installation) is granted this repository'
          : 'GitHub could not be asked: check GITHUB_API_URL and that this host reaches it (the running service checks again every GITHUB_CHECK_INTERVAL_SECONDS)';
    return [{ repository, check: 'repository', ok: false, detail: `${answered(repo.answer)}; ${remedy}` }];
  }
  const permissions = typeof repo.data === 'object' && repo.data !== null && 'permissions' in repo.data ? (repo.data.permissions as Record<string, unknown> | undefined) : undefined;
  const checks: WiringCheck[] = [{ repository, check: 'repository', ok: true, detail: 'the token can see the repository' }];
  checks.push(
    permissions?.push === true
      ? { repository, check: 'dispatch', ok: true, detail: 'the token may dispatch (push permission)' }
      : { repository, check: 'dispatch', ok: false, detail: 'the token may not dispatch: it needs Contents: read and write (fine-grained) or the repo scope (classic)' },
  );
  const runsStatus = runs?.answer.kind === 'response' ? runs.answer.status : 0;
  checks.push(
    runsStatus === 200
      ? { repository, check: 'actions', ok: true, detail: 'the token can read Actions runs (outcome tracking)' }
      : { repository, check: 'actions', ok: false, detail: `${runs ? answered(runs.answer) : 'not asked'}; the token needs Actions: read to follow rollbacks to their outcome` },
  );
  return checks;
}

/** Runs the checks for every configured repository, one request at a time. */
export async function checkWiring(github: GitHubClient, repositories: readonly string[]): Promise<WiringCheck[]> {
  const results: WiringCheck[] = [];
  for (const repository of repositories) {
    const path = `/repos/${repository.split('/').map(encodeURIComponent).join('/')}`;
    const repo = await github.get(path, {});
    const runs = repo.answer.kind === 'response' && repo.answer.status === 200 ? await github.get(`${path}/actions/runs`, { per_page: '1' }) : undefined;
    results.push(...interpretWiring(repository, repo, runs));
  }
  return results;
}

/**
 * Checks the wiring at start and every `intervalMs`, logs each change once (error with the remedy when
 * broken, info when fixed), exports it as a metric, and keeps the last result for /readyz and /v1/status.
 */
export class WiringMonitor {
  private last: WiringCheck[] | undefined;
  private checkedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** Repositories rollbacks went to that the configuration does not name (Applications' sources). */
  private readonly seen = new Set<string>();

  /**
   * `repositories`: the configured ones; `recentlyUsed`, when given, adds those recent events went to
   * (read at each check, so another replica's rollbacks are covered too).
   */
  constructor(
    private readonly github: GitHubClient,
    private readonly repositories: readonly string[],
    private readonly logger: Logger,
    private readonly metrics: Metrics | undefined,
    private readonly intervalMs: number,
    private readonly clock: Clock = systemClock,
    private readonly recentlyUsed: () => Promise<readonly string[]> = () => Promise.resolve([]),
  ) {}

  /** A rollback was stored for `repository`: a repository not checked yet is checked now. */
  noteRepository(repository: string): void {
    if (this.repositories.includes(repository) || this.seen.has(repository)) return;
    this.seen.add(repository);
    void this.checkNow().catch((error: unknown) => this.logger.warn({ err: error }, 'wiring check failed to run'));
  }

  private async allRepositories(): Promise<string[]> {
    for (const repository of await this.recentlyUsed()) this.seen.add(repository);
    return [...new Set([...this.repositories, ...this.seen])];
  }

  /** The last result; undefined until the first check finished. */
  current(): { checkedAt: number; checks: WiringCheck[]; ok: boolean } | undefined {
    return this.last ? { checkedAt: this.checkedAt, checks: this.last, ok: this.last.every((c) => c.ok) } : undefined;
  }

  async checkNow(): Promise<void> {
    // A check asked for while one runs waits for it, then runs again (it may name a new repository).
    if (this.running) return this.running.then(() => this.checkNow());
    this.running = (async () => {
      try {
        const checks = await checkWiring(this.github, await this.allRepositories());
        const log = this.logger.child({ component: 'wiring' });
        for (const check of checks) {
          this.metrics?.setGitHubCheck(check.repository, check.check, check.ok);
          const before = this.last?.find((c) => c.repository === check.repository && c.check === check.check);
          if (before?.ok === check.ok && before.detail === check.detail) continue;
          if (check.ok) log.info({ repository: check.repository, check: check.check }, `GitHub wiring ok: ${check.detail}`);
          else log.error({ repository: check.repository, check: check.check }, `GitHub wiring broken for ${check.repository}: ${check.detail}`);
        }
        this.last = checks;
        this.checkedAt = this.clock.now();
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  start(): void {
    void this.checkNow().catch((error: unknown) => this.logger.warn({ err: error }, 'wiring check failed to run'));
    this.timer = setInterval(() => void this.checkNow().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

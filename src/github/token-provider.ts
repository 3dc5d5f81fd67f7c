import axios, { type AxiosInstance } from 'axios';
import type * as AppJwt from 'universal-github-app-jwt';
import type { Config } from '../config/config';
import { USER_AGENT } from '../version';
import type { DispatchTarget } from './github-client';
import { tokenKeyFor } from './token-key';

/** Thrown when GitHub refuses the App's credentials (JWT, installation): a permanent failure with a remedy. */
export class GitHubAppAuthError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'GitHubAppAuthError';
  }
}

/** Where the token for a request to a repository comes from: a PAT, or a GitHub App installation. */
export interface TokenProvider {
  /** Names the pace slot: rate limits belong to the token (a PAT) or to the App. Never the token itself. */
  readonly key: string;
  tokenFor(target: DispatchTarget): Promise<string>;
  /**
   * GitHub refused a token this provider gave for `target` (401): whatever it cached for that repository
   * (its installation and token) is dropped, so the next tokenFor looks again. A PAT caches nothing.
   */
  forget?(target: DispatchTarget): void;
}

/** The provider the configuration asks for: the App, else the PAT; undefined in a dry run with neither. */
export function tokenProviderFor(config: Config): TokenProvider | undefined {
  const { app, token, apiUrl, timeoutMs } = config.github;
  if (app) return appTokens({ apiUrl, appId: app.appId, privateKey: app.privateKey, installationId: app.installationId, timeoutMs });
  return token ? patTokens(apiUrl, token) : undefined;
}

export function patTokens(apiUrl: string, token: string): TokenProvider {
  return { key: tokenKeyFor(apiUrl, token), tokenFor: () => Promise.resolve(token) };
}

export interface GitHubAppOptions {
  apiUrl: string;
  appId: number;
  /** PEM (PKCS#1 as GitHub issues it, or PKCS#8). */
  privateKey: string;
  /** Fixed installation; without it each repository's installation is looked up (and cached). */
  installationId?: number;
  timeoutMs: number;
  now?: () => number;
  http?: AxiosInstance;
}

interface CachedToken {
  token: string;
  expiresAt: number;
  renewAt: number;
}

/**
 * A GitHub App's installation tokens: the App's JWT comes from universal-github-app-jwt (no hand-rolled
 * JWT or RSA); each installation token is cached and renewed before the `expires_at` GitHub returned
 * with it (a quarter of its lifetime early, at most five minutes), so a token never expires mid-use and
 * GitHub's lifetime, whatever it is, is respected. Tokens live only in memory and request headers.
 */
export function appTokens(options: GitHubAppOptions): TokenProvider {
  const now = options.now ?? Date.now;
  const http =
    options.http ??
    axios.create({ baseURL: options.apiUrl, timeout: options.timeoutMs, maxRedirects: 0, validateStatus: () => true });
  const installations = new Map<string, number>();
  const tokens = new Map<number, CachedToken>();
  const pending = new Map<number, Promise<CachedToken>>();
  const headers = (bearer: string) => ({ Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28', Authorization: `Bearer ${bearer}`, 'User-Agent': USER_AGENT });
  const message = (data: unknown) => (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string' ? data.message : 'no message');

  async function appJwt(): Promise<string> {
    // Loaded only when a GitHub App is configured.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { githubAppJwt } = require('universal-github-app-jwt') as typeof AppJwt;
    return (await githubAppJwt({ id: options.appId, privateKey: options.privateKey, now: Math.floor(now() / 1000) })).token;
  }

  async function installationFor(target: DispatchTarget): Promise<number> {
    if (options.installationId !== undefined) return options.installationId;
    const repo = `${target.owner}/${target.repo}`;
    const known = installations.get(repo);
    if (known !== undefined) return known;
    const response = await http.get(`/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/installation`, { headers: headers(await appJwt()) });
    if (response.status !== 200) {
      throw new GitHubAppAuthError(`GitHub App ${options.appId} is not installed on ${repo} (GitHub answered ${response.status}: ${message(response.data)}); install it there, or check GITHUB_APP_ID and the key`, response.status);
    }
    const id = Number((response.data as { id?: unknown }).id);
    installations.set(repo, id);
    return id;
  }

  async function issue(installationId: number): Promise<CachedToken> {
    const response = await http.post(`/app/installations/${installationId}/access_tokens`, undefined, { headers: headers(await appJwt()) });
    if (response.status !== 201) {
      throw new GitHubAppAuthError(
        `GitHub App ${options.appId} could not get a token for installation ${installationId} (GitHub answered ${response.status}: ${message(response.data)}): the installation was removed or suspended, or GITHUB_APP_ID and the key do not match`,
        response.status,
      );
    }
    const data = response.data as { token?: unknown; expires_at?: unknown };
    const expiresAt = Date.parse(String(data.expires_at));
    if (typeof data.token !== 'string' || Number.isNaN(expiresAt)) throw new GitHubAppAuthError('GitHub answered an installation token without token or expires_at', 502);
    const lifetime = Math.max(0, expiresAt - now());
    return { token: data.token, expiresAt, renewAt: expiresAt - Math.min(5 * 60_000, lifetime / 4) };
  }

  async function tokenOf(installationId: number): Promise<string> {
    const cached = tokens.get(installationId);
    if (cached && now() < cached.renewAt) return cached.token;
    // One renewal at a time per installation, however many requests ask at once.
    let renewal = pending.get(installationId);
    if (!renewal) {
      renewal = issue(installationId).finally(() => pending.delete(installationId));
      pending.set(installationId, renewal);
    }
    const fresh = await renewal;
    tokens.set(installationId, fresh);
    return fresh.token;
  }

  /** Drops the repository's looked-up installation and its token (the App was reinstalled, or removed). */
  function forget(target: DispatchTarget): void {
    const repo = `${target.owner}/${target.repo}`;
    const known = installations.get(repo);
    installations.delete(repo);
    if (known !== undefined) tokens.delete(known);
    else if (options.installationId !== undefined) tokens.delete(options.installationId);
  }

  return {
    key: tokenKeyFor(options.apiUrl, `github-app:${options.appId}`),
    async tokenFor(target) {
      const looked = options.installationId === undefined && installations.has(`${target.owner}/${target.repo}`);
      try {
        return await tokenOf(await installationFor(target));
      } catch (error) {
        // A cached installation GitHub no longer knows (the App reinstalled: a new id): look it up again, once.
        if (!looked || !(error instanceof GitHubAppAuthError) || ![401, 403, 404].includes(error.status)) throw error;
        forget(target);
        return tokenOf(await installationFor(target));
      }
    },
    forget,
  };
}

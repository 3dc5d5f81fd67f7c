import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { USER_AGENT } from '../version';
import type { GitHubAnswer } from './classify-answer';
import type { Config } from '../config/config';
import { GitHubAppAuthError, tokenProviderFor, type TokenProvider } from './token-provider';

export interface DispatchTarget {
  owner: string;
  repo: string;
}

export interface GitHubClient {
  /** Sends one repository_dispatch. Never throws: network trouble comes back as a transport answer. */
  sendDispatch(target: DispatchTarget, serializedBody: string, signal?: AbortSignal): Promise<GitHubAnswer>;
  /** One GET of the REST API (same headers); `data` is the parsed body of a 2xx answer. Never throws. */
  get(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<{ answer: GitHubAnswer; data: unknown }>;
  /**
   * Where a job's log is (GET …/actions/jobs/{id}/logs): GitHub answers 302 to a short-lived signed
   * address on another host, which is the answer asked for (`location`); read it with readJobLog, which
   * never sends the token. Never throws.
   */
  getLogAddress(path: string, signal?: AbortSignal): Promise<{ answer: GitHubAnswer; location?: string }>;
}

export interface GitHubClientOptions {
  apiUrl: string;
  /** Where each request's token comes from (a PAT, or a GitHub App installation per repository). */
  tokens: TokenProvider;
  timeoutMs: number;
  /** Injected in tests; a fresh axios instance otherwise. */
  http?: AxiosInstance;
}

const MAX_MESSAGE_CHARS = 500;

function extractMessage(data: unknown): string | undefined {
  if (typeof data === 'object' && data !== null && 'message' in data && typeof data.message === 'string') {
    return data.message.slice(0, MAX_MESSAGE_CHARS);
  }
  if (typeof data === 'string' && data.trim() !== '') return data.trim().slice(0, MAX_MESSAGE_CHARS);
  return undefined;
}

/** Reads are always of one repository: its installation's token (App) or the PAT. */
function repositoryOf(path: string): DispatchTarget {
  const [, owner = '', repo = ''] = /^\/repos\/([^/]+)\/([^/]+)/.exec(path) ?? [];
  return { owner: decodeURIComponent(owner), repo: decodeURIComponent(repo) };
}

/**
 * The GitHub REST client for repository_dispatch. The token lives only in the request headers of the
 * axios instance; errors are reduced to a code and a message so no config object (which carries the
 * Authorization header) ever reaches a log line or a stored error.
 */
export function createGitHubClient(options: GitHubClientOptions): GitHubClient {
  const http =
    options.http ??
    axios.create({
      baseURL: options.apiUrl,
      timeout: options.timeoutMs,
      maxRedirects: 0,
      validateStatus: () => true,
      transitional: { clarifyTimeoutError: true },
    });
  const headersFor = async (target: DispatchTarget) => ({
    Accept: 'application/vnd.github+json',
    'X-GitHub-Api-Version': '2022-11-28',
    Authorization: `Bearer ${await options.tokens.tokenFor(target)}`,
    'User-Agent': USER_AGENT,
  });

  /**
   * One request for `target`'s repository; when GitHub refuses its token with 401 and the token came from
   * a provider that caches (a GitHub App installation), the cache for that repository is dropped and the
   * request sent once more with a fresh token. A 401 means GitHub did not act on it: sending it again can
   * never make a second dispatch.
   */
  async function exchangeFor(target: DispatchTarget, request: () => Promise<AxiosResponse>): Promise<{ answer: GitHubAnswer; data: unknown }> {
    const first = await exchange(request);
    if (first.answer.kind !== 'response' || first.answer.status !== 401 || !options.tokens.forget) return first;
    options.tokens.forget(target);
    return exchange(request);
  }

  /** Runs one request; the answer carries status, lower-case headers and GitHub's message, never the config. */
  async function exchange(request: () => Promise<AxiosResponse>): Promise<{ answer: GitHubAnswer; data: unknown }> {
    try {
      const response = await request();
      const responseHeaders: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(response.headers as Record<string, unknown>)) {
        if (typeof value === 'string') responseHeaders[name.toLowerCase()] = value;
      }
      const ok = response.status >= 200 && response.status < 300;
      return { answer: { kind: 'response', status: response.status, headers: responseHeaders, message: ok ? undefined : extractMessage(response.data) }, data: response.data };
    } catch (error) {
      // The App's credentials were refused: answered like GitHub refusing the request itself.
      if (error instanceof GitHubAppAuthError) return { answer: { kind: 'response', status: error.status, headers: {}, message: error.message }, data: undefined };
      if (axios.isAxiosError(error)) {
        const code = error.code ? ` (${error.code})` : '';
        return { answer: { kind: 'transport', message: `${error.message}${code}` }, data: undefined };
      }
      return { answer: { kind: 'transport', message: error instanceof Error ? error.message : 'unknown error' }, data: undefined };
    }
  }

  return {
    async sendDispatch(target, serializedBody, signal) {
      const path = `/repos/${encodeURIComponent(target.owner)}/${encodeURIComponent(target.repo)}/dispatches`;
      // The body is already JSON; keep axios from re-serialising it.
      const result = await exchangeFor(target, async () =>
        http.post(path, serializedBody, { headers: { ...(await headersFor(target)), 'Content-Type': 'application/json' }, signal, transformRequest: [(data: unknown) => data], responseType: 'json' }),
      );
      return result.answer;
    },
    get(path, params, signal) {
      return exchangeFor(repositoryOf(path), async () => http.get(path, { headers: await headersFor(repositoryOf(path)), params, signal, responseType: 'json' }));
    },
    async getLogAddress(path, signal) {
      const { answer } = await exchangeFor(repositoryOf(path), async () => http.get(path, { headers: await headersFor(repositoryOf(path)), signal, responseType: 'text' }));
      if (answer.kind !== 'response' || answer.status !== 302) return { answer };
      const location = answer.headers.location;
      if (!location) return { answer: { kind: 'transport', message: 'GitHub answered 302 for the job log without an address' } };
      return { answer, location };
    },
  };
}

/** The one GitHub client of a process and the key of its token's pace (one token cache for everything). */
export interface GitHubAccess {
  client: GitHubClient;
  /** Names the token's dispatch slot (tokenKeyFor): everything using the token shares one pace. */
  tokenKey: string;
}

/** GitHub as the configuration says (the App, else the PAT); undefined in a dry run with neither. */
export function githubAccessFor(config: Config): GitHubAccess | undefined {
  const tokens = tokenProviderFor(config);
  if (!tokens) return undefined;
  return { client: createGitHubClient({ apiUrl: config.github.apiUrl, tokens, timeoutMs: config.github.timeoutMs }), tokenKey: tokens.key };
}

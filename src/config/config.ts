import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import { BOOLEAN_HINT, parseBoolean } from './boolean';
import { parseRoutesFile, resolveRoute, valuesPathProblem, type Route, type RouteRule } from './routes';
import type { PostgresLimits } from '../store/database';

/** Environment variables whose values must never be echoed back in an error. */
// DATABASE_URL may carry a PostgreSQL password.
// NOTIFY_URL is itself the credential of an incoming webhook (Slack's carry it in the path).
const SECRET_VARIABLES = new Set(['GH_PAT_WEBHOOK', 'WEBHOOK_TOKEN', 'ADMIN_TOKEN', 'DATABASE_URL', 'NOTIFY_URL', 'METRICS_TOKEN', 'GITHUB_APP_PRIVATE_KEY']);

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const integer = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      message: `expected a whole number from ${min} to ${max}`,
    })
    .transform(Number);

/** Seconds, decimals allowed (tests scale time down), as milliseconds. */
const seconds = (max: number, fallback: number, min = 0) =>
  z
    .string()
    .trim()
    .default(String(fallback))
    .refine((v) => /^\d+(?:\.\d+)?$/.test(v) && Number(v) >= min && Number(v) <= max, { message: `expected a number of seconds from ${min} to ${max}` })
    .transform((v) => Math.round(Number(v) * 1000));

const booleanFlag = z
  .string()
  .default('false')
  .refine((v) => parseBoolean(v) !== undefined, { message: BOOLEAN_HINT })
  .transform((v) => parseBoolean(v) === true);

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const envSchema = z
  .object({
    GH_PAT_WEBHOOK: optionalString,
    GITHUB_APP_ID: optionalString.pipe(z.string().regex(/^\d{1,12}$/, 'expected the App ID (a number, on the App\'s settings page)').optional()),
    GITHUB_APP_INSTALLATION_ID: optionalString.pipe(z.string().regex(/^\d{1,15}$/, 'expected an installation id (a number)').optional()),
    GITHUB_APP_PRIVATE_KEY: optionalString,
    GITHUB_APP_PRIVATE_KEY_FILE: optionalString,
    REPO_OWNER: z
      .string({ error: 'required: the owner (user or organisation) of the GitOps repository' })
      .trim()
      .regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub user or organisation name'),
    REPO_NAME: z
      .string({ error: 'required: the name of the GitOps repository' })
      .trim()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected a GitHub repository name'),
    WEBHOOK_EVENT: z.string().trim().default('argo-degraded').pipe(z.string().min(1).max(100, 'expected 1 to 100 characters')),
    GITHUB_API_URL: z
      .string()
      .trim()
      .default('https://api.github.com')
      .refine((v) => /^https?:\/\/[^\s]+$/.test(v) && URL.canParse(v), {
        message: 'expected an http(s) URL such as https://api.github.com or https://HOST/api/v3',
      })
      .transform((v) => v.replace(/\/+$/, '')),
    WEBHOOK_TOKEN: z
      .string({ error: 'required: the shared secret Argo CD sends (e.g. openssl rand -hex 32)' })
      .min(16, 'expected at least 16 characters (e.g. openssl rand -hex 32)'),
    ADMIN_TOKEN: optionalString.pipe(z.string().min(16, 'expected at least 16 characters').optional()),
    REQUIRE_ADMIN_TOKEN: booleanFlag,
    PORT: integer(0, 65535, 8080),
    HOST: z.string().trim().min(1).default('0.0.0.0'),
    DATABASE_URL: z
      .string()
      .trim()
      .default('sqlite:./data/rollback.db')
      .refine((v) => /^sqlite:.+/.test(v) || (/^postgres(?:ql)?:\/\/.+/.test(v) && URL.canParse(v)), {
        message: 'expected sqlite:<path>, sqlite::memory: or postgres://user:password@host:5432/database',
      }),
    DRY_RUN: booleanFlag,
    LOG_LEVEL: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
    DELIVERY_MAX_ATTEMPTS: integer(1, 1000, 10),
    DELIVERY_RETRY_BASE_MS: integer(1, 3_600_000, 2000),
    DELIVERY_LEASE_MS: integer(1000, 3_600_000, 60_000),
    GITHUB_MIN_INTERVAL_MS: integer(0, 3_600_000, 1000),
    GITHUB_READ_INTERVAL_MS: integer(0, 3_600_000, 100),
    GITHUB_TIMEOUT_MS: integer(100, 600_000, 10_000),
    GITHUB_LOG_TIMEOUT_MS: integer(100, 600_000, 5000),
    SHUTDOWN_TIMEOUT_MS: integer(0, 600_000, 10_000),
    INGRESS_RATE_LIMIT_PER_MINUTE: integer(0, 10_000_000, 600),
    ROLLBACK_MAX_PER_WINDOW: integer(1, 1000, 3),
    ROLLBACK_WINDOW_MINUTES: integer(1, 10_080, 60),
    ROUTES_FILE: optionalString,
    VALUES_PATHS: optionalString,
    ROLLBACK_HEALTHY_GRACE_SECONDS: seconds(31_536_000, 1800),
    OUTCOME_POLL_MS: integer(10, 3_600_000, 10_000),
    OUTCOME_POLL_MAX_MS: integer(10, 86_400_000, 120_000),
    RUN_LOOKUP_SECONDS: seconds(86_400, 600),
    VERIFY_TIMEOUT_SECONDS: seconds(604_800, 1800),
    RESTORE_MAX_REDISPATCH: integer(0, 10, 2),
    RETENTION_DAYS: integer(0, 36_500, 90),
    RESTORE_BRANCH: z
      .string()
      .trim()
      .default('main')
      .refine((v) => /^[A-Za-z0-9._/-]+$/.test(v) && !v.includes('..'), { message: "expected a branch name (the workflow's TARGET_BRANCH)" }),
    NOTIFY_URL: optionalString.pipe(
      z
        .string()
        .refine((v) => /^https?:\/\/\S+$/.test(v) && URL.canParse(v), { message: 'expected an http(s) URL of an incoming webhook' })
        .optional(),
    ),
    NOTIFY_FORMAT: z.enum(['slack', 'json'], { error: 'expected slack or json' }).default('slack'),
    NOTIFY_MAX_ATTEMPTS: integer(1, 1000, 20),
    READY_REQUIRES_GITHUB: booleanFlag,
    HTTP_HEADERS_TIMEOUT_MS: integer(100, 600_000, 10_000),
    HTTP_REQUEST_TIMEOUT_MS: integer(100, 600_000, 30_000),
    HTTP_KEEPALIVE_TIMEOUT_MS: integer(100, 600_000, 5_000),
    HTTP_MAX_CONNECTIONS: integer(1, 1_000_000, 1000),
    HTTP_MAX_CONNECTIONS_PER_CLIENT: integer(0, 1_000_000, 100),
    // Each check is two GitHub reads per repository outside the dispatch slot: at least a minute apart,
    // so it never competes with the dispatches for the token's budget (0 meant back to back).
    GITHUB_CHECK_INTERVAL_SECONDS: seconds(86_400, 300, 60),
    METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'expected at least 16 characters').optional()),
    METRICS_PUBLIC: booleanFlag,
    METRICS_APP_LABEL: booleanFlag,
    METRICS_MAX_APPS: integer(1, 100_000, 500),
    UI_COOKIE_SECURE: booleanFlag,
    UI_SESSION_HOURS: integer(1, 720, 12),
    // PostgreSQL (DATABASE_URL postgres://): bounds on every wait, so a half-open connection or a stuck
    // query ends in a bounded 503 instead of holding the pool for ever.
    PG_CONNECT_TIMEOUT_MS: integer(100, 600_000, 5000),
    PG_QUERY_TIMEOUT_MS: integer(100, 600_000, 10_000),
    PG_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(100, 3_600_000, 30_000),
    PG_KEEPALIVE_MS: integer(0, 3_600_000, 10_000),
    PG_POOL_WAIT_MS: integer(100, 600_000, 10_000),
    TRUST_PROXY: z
      .string()
      .trim()
      .default('false')
      .refine(isTrustProxy, { message: 'expected false, a hop count (1, 2, …), or addresses/CIDRs/loopback/linklocal/uniquelocal separated by commas' })
      .transform(toTrustProxy),
  });

/** Every variable the service reads (the compose file and .env.example are checked against this list). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isTrustProxy(value: string): boolean {
  if (value === 'false' || /^\d{1,2}$/.test(value)) return true;
  return value.split(',').every((part) => {
    const entry = part.trim();
    if (PROXY_PRESETS.has(entry)) return true;
    const [address = '', prefix, extra] = entry.split('/');
    if (extra !== undefined) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
  });
}

/** Express's 'trust proxy' setting: false, a hop count, or the list of trusted proxy addresses. */
function toTrustProxy(value: string): false | number | string[] {
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((v) => v.trim());
}

/** Rules across variables, checked on the raw values so they are listed even when other variables are bad. */
function crossCheck(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const dryRun = envSchema.shape.DRY_RUN.safeParse(env.DRY_RUN);
  const app = ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_FILE', 'GITHUB_APP_INSTALLATION_ID'].some((name) => env[name]?.trim());
  if (dryRun.success && !dryRun.data && !env.GH_PAT_WEBHOOK?.trim() && !app) {
    problems.push(
      'GH_PAT_WEBHOOK: required unless DRY_RUN=true or a GitHub App is set (GITHUB_APP_ID and its key): a classic PAT with repo scope, or fine-grained with Contents: read and write',
    );
  }
  const requireAdmin = envSchema.shape.REQUIRE_ADMIN_TOKEN.safeParse(env.REQUIRE_ADMIN_TOKEN);
  if (requireAdmin.success && requireAdmin.data && !env.ADMIN_TOKEN?.trim()) {
    problems.push('ADMIN_TOKEN: required here (REQUIRE_ADMIN_TOKEN=true): its own token for /v1/* and the status page, not WEBHOOK_TOKEN (openssl rand -hex 32)');
  }
  if (app && env.GH_PAT_WEBHOOK?.trim()) problems.push('GH_PAT_WEBHOOK: set either a PAT or a GitHub App (GITHUB_APP_*), not both');
  if (app && !env.GITHUB_APP_ID?.trim()) problems.push("GITHUB_APP_ID: required with a GitHub App (the App ID on the App's settings page)");
  if (app && !env.GITHUB_APP_PRIVATE_KEY?.trim() && !env.GITHUB_APP_PRIVATE_KEY_FILE?.trim()) {
    problems.push('GITHUB_APP_PRIVATE_KEY: required with a GitHub App: the PEM key, or GITHUB_APP_PRIVATE_KEY_FILE with its path');
  }
  if (env.GITHUB_APP_PRIVATE_KEY?.trim() && env.GITHUB_APP_PRIVATE_KEY_FILE?.trim()) problems.push('GITHUB_APP_PRIVATE_KEY_FILE: set the key or its file, not both');
  const lease = envSchema.shape.DELIVERY_LEASE_MS.safeParse(env.DELIVERY_LEASE_MS);
  const timeout = envSchema.shape.GITHUB_TIMEOUT_MS.safeParse(env.GITHUB_TIMEOUT_MS);
  if (lease.success && timeout.success) {
    // With a GitHub App one dispatch can be three requests (installation lookup, token, dispatch), each
    // up to GITHUB_TIMEOUT_MS; the lease must outlive all of them, or another replica sends it again.
    const requests = app ? 3 : 1;
    if (lease.data <= requests * timeout.data) {
      problems.push(
        app
          ? `DELIVERY_LEASE_MS: must be longer than 3 × GITHUB_TIMEOUT_MS (${3 * timeout.data}) with a GitHub App, so a lease outlives the installation lookup, the token request and the dispatch`
          : `DELIVERY_LEASE_MS: must be longer than GITHUB_TIMEOUT_MS (${timeout.data}) so a lease outlives one request`,
      );
    }
  }
  const poll = envSchema.shape.OUTCOME_POLL_MS.safeParse(env.OUTCOME_POLL_MS);
  const pollMax = envSchema.shape.OUTCOME_POLL_MAX_MS.safeParse(env.OUTCOME_POLL_MAX_MS);
  if (poll.success && pollMax.success && pollMax.data < poll.data) {
    problems.push(`OUTCOME_POLL_MAX_MS: must be at least OUTCOME_POLL_MS (${poll.data})`);
  }
  const retention = envSchema.shape.RETENTION_DAYS.safeParse(env.RETENTION_DAYS);
  const window = envSchema.shape.ROLLBACK_WINDOW_MINUTES.safeParse(env.ROLLBACK_WINDOW_MINUTES);
  if (retention.success && window.success && retention.data > 0 && retention.data * 1440 < window.data) {
    // The loop guard counts the rollbacks in its window: retention must not delete them first.
    problems.push(`RETENTION_DAYS: must cover ROLLBACK_WINDOW_MINUTES (${window.data} minutes, ${Math.ceil(window.data / 1440)} days), or 0 to keep everything`);
  }
  return problems;
}

export interface Config {
  readonly github: {
    readonly token: string | undefined;
    /** A GitHub App instead of a PAT (the key is read from GITHUB_APP_PRIVATE_KEY_FILE at start). */
    readonly app: { readonly appId: number; readonly privateKey: string; readonly installationId: number | undefined } | undefined;
    readonly apiUrl: string;
    readonly owner: string;
    readonly repo: string;
    readonly eventType: string;
    /** VALUES_PATHS: what apps without a route's values_paths restore; undefined leaves it to the workflow. */
    readonly valuesPaths: readonly string[] | undefined;
    readonly timeoutMs: number;
    /** Reading a failed job's log from the address GitHub redirects to: redirect, headers and body, all of it. */
    readonly logTimeoutMs: number;
    readonly minIntervalMs: number;
    /** The shortest gap between two reads with one token (reads keep their own pace: src/github/read-pace.ts). */
    readonly readIntervalMs: number;
    /** How often the wiring check (token, repositories, permissions) runs again. */
    readonly checkIntervalMs: number;
    /** /readyz fails while the wiring check fails (default: it only reports it). */
    readonly readyRequiresGitHub: boolean;
  };
  readonly auth: { readonly webhookToken: string; readonly adminToken: string };
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly ingressRateLimitPerMinute: number;
    /** Express's 'trust proxy': whose X-Forwarded-For names the client (for logs and the rate limit). */
    readonly trustProxy: false | number | readonly string[];
    /** A client gets this long to send its headers, and its whole request; an idle keep-alive this long. */
    readonly headersTimeoutMs: number;
    readonly requestTimeoutMs: number;
    readonly keepAliveTimeoutMs: number;
    readonly maxConnections: number;
    /** Connections one client address may hold at once (0: no cap of its own). */
    readonly maxConnectionsPerClient: number;
  };
  /** The status page's sign-in: the session cookie's lifetime, and Secure on plain HTTP too (behind a TLS proxy). */
  readonly ui: { readonly cookieSecure: boolean; readonly sessionMs: number };
  readonly databaseUrl: string;
  /** PostgreSQL's bounds (see StoreOptions.postgres). */
  readonly postgres: PostgresLimits;
  readonly dryRun: boolean;
  readonly logLevel: (typeof LOG_LEVELS)[number];
  /** Routes from ROUTES_FILE, in file order; resolve with `routeFor(config, app)`. */
  readonly routes: readonly RouteRule[];
  readonly rollback: { readonly maxPerWindow: number; readonly windowMinutes: number; readonly healthyGraceMs: number };
  /** How long finished events, reports, messages and admin actions are kept (days; 0 keeps everything). */
  readonly retention: { readonly days: number };
  /** Following each delivered rollback to its outcome. */
  readonly outcomes: {
    readonly pollMs: number;
    readonly pollMaxMs: number;
    readonly runLookupMs: number;
    readonly verifyTimeoutMs: number;
    readonly maxRedispatch: number;
    /** The branch the workflow restores onto (its TARGET_BRANCH). */
    readonly branch: string;
  };
  /**
   * GET /metrics: guarded by `token` (METRICS_TOKEN, else ADMIN_TOKEN); `token` undefined means public
   * (METRICS_PUBLIC=true with no METRICS_TOKEN).
   */
  readonly metrics: { readonly token: string | undefined; readonly appLabel: boolean; readonly maxApps: number };
  /** Where people are told; no url, no messages. */
  /** NOTIFY_MAX_ATTEMPTS: sends of one message at most, then it ends failed and its app's next ones go. */
  readonly notify: { readonly url: string | undefined; readonly format: 'slack' | 'json'; readonly maxAttempts: number };
  readonly delivery: {
    readonly maxAttempts: number;
    readonly retryBaseMs: number;
    readonly leaseMs: number;
    readonly shutdownTimeoutMs: number;
  };
}

/** Thrown by loadConfig; its message lists every problem, one per line, and never a secret value. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parse the environment once, list every problem at once, and return a frozen, typed config. */
export function loadConfig(
  given: Record<string, string | undefined> = process.env,
  readFile: (path: string) => string = (path) => readFileSync(path, 'utf8'),
): Config {
  // An empty value is an unset one: `WEBHOOK_TOKEN=` in a .env, or `${WEBHOOK_TOKEN:-}` in a compose
  // file, says "required", never "too short", and an empty optional one takes its default.
  const env = Object.fromEntries(Object.entries(given).filter(([, value]) => value === undefined || value.trim() !== ''));
  const result = envSchema.safeParse(env);
  const problems = (result.error?.issues ?? []).map((issue) => {
    const name = String(issue.path[0] ?? 'environment');
    const raw = env[name];
    const shown = raw === undefined || SECRET_VARIABLES.has(name) ? '' : ` (got ${JSON.stringify(raw)})`;
    return `${name}: ${issue.message}${shown}`;
  });
  problems.push(...crossCheck(env));
  // The App's key: read from its file, and parsed once here so a bad key stops the start, never a rollback.
  let appKey = env.GITHUB_APP_PRIVATE_KEY?.trim() ? env.GITHUB_APP_PRIVATE_KEY.replace(/\\n/g, '\n') : undefined;
  const keyFile = env.GITHUB_APP_PRIVATE_KEY_FILE?.trim();
  if (keyFile) {
    try {
      appKey = readFile(keyFile);
    } catch (error) {
      problems.push(`GITHUB_APP_PRIVATE_KEY_FILE: cannot read ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (appKey !== undefined) {
    try {
      if (createPrivateKey(appKey).asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    } catch {
      problems.push(`${keyFile ? 'GITHUB_APP_PRIVATE_KEY_FILE' : 'GITHUB_APP_PRIVATE_KEY'}: not an RSA private key in PEM (the .pem file GitHub generates for the App, "-----BEGIN RSA PRIVATE KEY-----")`);
    }
  }
  const valuesPaths = parseValuesPaths(env.VALUES_PATHS);
  problems.push(...valuesPaths.problems);
  const routesFile = env.ROUTES_FILE?.trim();
  let routes: RouteRule[] = [];
  if (routesFile) {
    let text: string | undefined;
    try {
      text = readFile(routesFile);
    } catch (error) {
      problems.push(`ROUTES_FILE: cannot read ${routesFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (text !== undefined) {
      const parsed = parseRoutesFile(text);
      routes = parsed.rules;
      problems.push(...parsed.problems.map((p) => `ROUTES_FILE (${routesFile}): ${p}`));
    }
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const e = result.data;
  return deepFreeze({
    github: {
      token: e.GH_PAT_WEBHOOK,
      app: e.GITHUB_APP_ID && appKey ? { appId: Number(e.GITHUB_APP_ID), privateKey: appKey, installationId: e.GITHUB_APP_INSTALLATION_ID ? Number(e.GITHUB_APP_INSTALLATION_ID) : undefined } : undefined,
      apiUrl: e.GITHUB_API_URL,
      owner: e.REPO_OWNER,
      repo: e.REPO_NAME,
      eventType: e.WEBHOOK_EVENT,
      valuesPaths: valuesPaths.paths,
      timeoutMs: e.GITHUB_TIMEOUT_MS,
      logTimeoutMs: e.GITHUB_LOG_TIMEOUT_MS,
      minIntervalMs: e.GITHUB_MIN_INTERVAL_MS,
      readIntervalMs: e.GITHUB_READ_INTERVAL_MS,
      checkIntervalMs: e.GITHUB_CHECK_INTERVAL_SECONDS,
      readyRequiresGitHub: e.READY_REQUIRES_GITHUB,
    },
    auth: { webhookToken: e.WEBHOOK_TOKEN, adminToken: e.ADMIN_TOKEN ?? e.WEBHOOK_TOKEN },
    http: {
      port: e.PORT,
      host: e.HOST,
      ingressRateLimitPerMinute: e.INGRESS_RATE_LIMIT_PER_MINUTE,
      trustProxy: e.TRUST_PROXY,
      headersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: Math.max(e.HTTP_REQUEST_TIMEOUT_MS, e.HTTP_HEADERS_TIMEOUT_MS),
      keepAliveTimeoutMs: e.HTTP_KEEPALIVE_TIMEOUT_MS,
      maxConnections: e.HTTP_MAX_CONNECTIONS,
      maxConnectionsPerClient: e.HTTP_MAX_CONNECTIONS_PER_CLIENT,
    },
    ui: { cookieSecure: e.UI_COOKIE_SECURE, sessionMs: e.UI_SESSION_HOURS * 3_600_000 },
    databaseUrl: e.DATABASE_URL,
    postgres: {
      connectTimeoutMs: e.PG_CONNECT_TIMEOUT_MS,
      queryTimeoutMs: e.PG_QUERY_TIMEOUT_MS,
      idleInTransactionTimeoutMs: e.PG_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      keepAliveMs: e.PG_KEEPALIVE_MS,
      poolWaitMs: e.PG_POOL_WAIT_MS,
    },
    dryRun: e.DRY_RUN,
    logLevel: e.LOG_LEVEL,
    routes,
    rollback: { maxPerWindow: e.ROLLBACK_MAX_PER_WINDOW, windowMinutes: e.ROLLBACK_WINDOW_MINUTES, healthyGraceMs: e.ROLLBACK_HEALTHY_GRACE_SECONDS },
    retention: { days: e.RETENTION_DAYS },
    outcomes: {
      pollMs: e.OUTCOME_POLL_MS,
      pollMaxMs: e.OUTCOME_POLL_MAX_MS,
      runLookupMs: e.RUN_LOOKUP_SECONDS,
      verifyTimeoutMs: e.VERIFY_TIMEOUT_SECONDS,
      maxRedispatch: e.RESTORE_MAX_REDISPATCH,
      branch: e.RESTORE_BRANCH,
    },
    notify: { url: e.NOTIFY_URL, format: e.NOTIFY_FORMAT, maxAttempts: e.NOTIFY_MAX_ATTEMPTS },
    metrics: {
      token: e.METRICS_TOKEN ?? (e.METRICS_PUBLIC ? undefined : (e.ADMIN_TOKEN ?? e.WEBHOOK_TOKEN)),
      appLabel: e.METRICS_APP_LABEL,
      maxApps: e.METRICS_MAX_APPS,
    },
    delivery: {
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
      retryBaseMs: e.DELIVERY_RETRY_BASE_MS,
      leaseMs: e.DELIVERY_LEASE_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
  });
}

/** VALUES_PATHS: comma- or newline-separated; each must be a path the workflow's restore script accepts. */
function parseValuesPaths(raw: string | undefined): { paths: string[] | undefined; problems: string[] } {
  if (raw === undefined) return { paths: undefined, problems: [] };
  const paths = raw
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const problems = paths.flatMap((p) => {
    const problem = valuesPathProblem(p);
    return problem ? [`VALUES_PATHS: ${JSON.stringify(p)}: ${problem} (the workflow would refuse it)`] : [];
  });
  if (paths.length === 0) problems.push('VALUES_PATHS: expected one or more paths separated by commas or newlines');
  return { paths, problems };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}

/** The hosts whose repositories rollbacks can go to: github.com, and GITHUB_API_URL's host for GitHub Enterprise Server. */
export function githubHosts(config: Config): string[] {
  const host = new URL(config.github.apiUrl).hostname.toLowerCase();
  return host === 'api.github.com' || host === 'github.com' ? ['github.com'] : ['github.com', host];
}

/** The route for an app: the first matching ROUTES_FILE rule over the environment defaults. */
export function routeFor(config: Config, app: string): Route {
  return resolveRoute(
    config.routes,
    {
      owner: config.github.owner,
      repo: config.github.repo,
      eventType: config.github.eventType,
      valuesPaths: config.github.valuesPaths,
      sourceIndex: undefined,
      dryRun: config.dryRun,
      maxPerWindow: config.rollback.maxPerWindow,
      windowMinutes: config.rollback.windowMinutes,
      healthyGraceMs: config.rollback.healthyGraceMs,
    },
    app,
  );
}

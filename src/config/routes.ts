import picomatch from 'picomatch';
import type * as Yaml from 'yaml';
import { z } from 'zod';
import { BOOLEAN_HINT, parseBoolean } from './boolean';

/** Where one app's rollbacks go and how they are guarded. */
export interface Route {
  owner: string;
  repo: string;
  eventType: string;
  /** Sent as client_payload.values_paths (newline-separated) so one workflow serves many apps. */
  valuesPaths: readonly string[] | undefined;
  /** Where valuesPaths came from: the route's values_paths (overrides the Application) or VALUES_PATHS (a fallback). */
  valuesPathsFrom?: 'route' | 'VALUES_PATHS';
  /** Which source of a multi-source app holds the values file; undefined means the first Git source. */
  sourceIndex: number | undefined;
  dryRun: boolean;
  maxPerWindow: number;
  windowMinutes: number;
  /** A Degraded report of a revision Healthy for longer than this is not a deploy's fault: no rollback (0: off). */
  healthyGraceMs: number;
  /** The routes-file pattern that matched, or undefined for the environment defaults. */
  matched: string | undefined;
}

/** One entry of the routes file; unset fields fall back to the environment defaults. */
export type RouteRule = { app: string } & Partial<Omit<Route, 'matched' | 'valuesPathsFrom'>>;

// The same rule the workflow's restore script applies (deploy/github/restore-values.sh): a relative
// YAML path, no "..", not under .github/ (a workflow must never be "restored" by a rollback).
const VALUES_PATH = z
  .string()
  .regex(/^[A-Za-z0-9._/-]+\.ya?ml$/, 'expected a relative path to a .yaml or .yml file (letters, digits, . _ / -)')
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..') && !p.startsWith('.github/'), {
    message: 'must stay inside the repository and outside .github/',
  });

/** Why the workflow would refuse `path` as a values path, or undefined when it would take it. */
export function valuesPathProblem(path: string): string | undefined {
  return VALUES_PATH.safeParse(path).error?.issues[0]?.message;
}

const ruleSchema = z.strictObject({
  app: z.string().min(1, 'expected an app name or glob such as team-a-*'),
  owner: z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/, 'expected a GitHub user or organisation name').optional(),
  repo: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected a GitHub repository name').optional(),
  event_type: z.string().min(1).max(100, 'expected 1 to 100 characters').optional(),
  values_paths: z.array(VALUES_PATH).min(1, 'expected at least one path').optional(),
  source_index: z.number().int().min(0, 'expected a whole number from 0').optional(),
  dry_run: z
    .unknown()
    .refine((v) => parseBoolean(v) !== undefined, { message: BOOLEAN_HINT })
    .transform((v) => parseBoolean(v) === true)
    .optional(),
  rollback_max_per_window: z.number().int().min(1, 'expected a whole number from 1').optional(),
  rollback_window_minutes: z.number().int().min(1, 'expected a whole number of minutes from 1').optional(),
  rollback_healthy_grace_seconds: z.number().min(0, 'expected a number of seconds from 0 (0 turns it off)').optional(),
});

const fileSchema = z.strictObject({ routes: z.array(ruleSchema) });

/** Parses and validates a routes file; returns the rules or every problem found, each with its path. */
export function parseRoutesFile(text: string): { rules: RouteRule[]; problems: string[] } {
  let raw: unknown;
  try {
    // Loaded only when there is a routes file to read.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    raw = (require('yaml') as typeof Yaml).parse(text);
  } catch (error) {
    return { rules: [], problems: [`not valid YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || 'file'}: ${issue.message}`);
    return { rules: [], problems };
  }
  return {
    rules: result.data.routes.map((r) => ({
      app: r.app,
      owner: r.owner,
      repo: r.repo,
      eventType: r.event_type,
      valuesPaths: r.values_paths,
      sourceIndex: r.source_index,
      dryRun: r.dry_run,
      maxPerWindow: r.rollback_max_per_window,
      windowMinutes: r.rollback_window_minutes,
      healthyGraceMs: r.rollback_healthy_grace_seconds === undefined ? undefined : Math.round(r.rollback_healthy_grace_seconds * 1000),
    })),
    problems: [],
  };
}

const matchers = new Map<string, (app: string) => boolean>();

function matches(pattern: string, app: string): boolean {
  let matcher = matchers.get(pattern);
  if (!matcher) {
    matcher = picomatch(pattern, { dot: true });
    matchers.set(pattern, matcher);
  }
  return matcher(app);
}

/** The first rule whose app name or glob matches, over the environment defaults. */
export function resolveRoute(rules: readonly RouteRule[], defaults: Omit<Route, 'matched' | 'valuesPathsFrom'>, app: string): Route {
  const rule = rules.find((r) => matches(r.app, app));
  const fallback = defaults.valuesPaths !== undefined ? ('VALUES_PATHS' as const) : undefined;
  if (!rule) return { ...defaults, valuesPathsFrom: fallback, matched: undefined };
  return {
    owner: rule.owner ?? defaults.owner,
    repo: rule.repo ?? defaults.repo,
    eventType: rule.eventType ?? defaults.eventType,
    valuesPaths: rule.valuesPaths ?? defaults.valuesPaths,
    valuesPathsFrom: rule.valuesPaths !== undefined ? 'route' : fallback,
    sourceIndex: rule.sourceIndex ?? defaults.sourceIndex,
    // A route can turn dry run on, never off: with DRY_RUN=true there is no worker and maybe no token.
    dryRun: defaults.dryRun || (rule.dryRun ?? false),
    maxPerWindow: rule.maxPerWindow ?? defaults.maxPerWindow,
    windowMinutes: rule.windowMinutes ?? defaults.windowMinutes,
    healthyGraceMs: rule.healthyGraceMs ?? defaults.healthyGraceMs,
    matched: rule.app,
  };
}

import { InvalidPayloadError } from './invalid-payload';
import type { AppSource } from './restore-plan';
import type { HistoryEntry } from './rollback-policy';
import { NO_VALUE, checkRevision } from './revision';

/** What a webhook body asks for, whatever shape it came in. */
export type WebhookMessage =
  | {
      kind: 'rollback';
      shape: 'A' | 'B' | 'C';
      app: string;
      failedRevision: string;
      /** `healthy_revision` from a shape-A payload. */
      requestedTarget?: string;
      /** `event_type` from a shape-A body; undefined means the route's or WEBHOOK_EVENT. */
      eventType?: string;
      /** Other shape-A client_payload keys, passed through to the workflow. */
      extras: Record<string, unknown>;
      /** Shape C: the application's sync history, oldest first. */
      history?: HistoryEntry[];
      /** Shape C with the shipped templates (or a whole Application): what the app renders from. */
      sources?: AppSource[];
      /** Each source's revision as deployed (aligned with sources). */
      failedRevisions?: string[];
      /** The source whose revision is failedRevision. */
      sourceIndex?: number;
    }
  | { kind: 'health'; shape: 'B' | 'C'; app: string; status: HealthStatus; revision: string }
  /** A non-Degraded state that cannot tell which revision runs (a sync running, retrying or failed): it vouches for none. */
  | { kind: 'health_not_recorded'; shape: 'C'; app: string; status: HealthStatus; reason: string }
  /** A Degraded app Argo CD never synced: no deployed revision, so nothing to roll back from. */
  | { kind: 'not_deployed'; shape: 'C'; app: string; reason: string }
  /** An app that renders only charts from chart repositories: its revisions are chart versions, no commit undoes them. */
  | { kind: 'not_restorable'; shape: 'C'; app: string; health: HealthStatus; revision: string; reason: string };

/** Argo CD's health statuses (argo-cd gitops-engine `health.HealthStatusCode`). */
export const HEALTH_STATUSES = ['Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** Used when a shape-A body names no app: seed setups have one app per GitOps repository. */
export const DEFAULT_APP = 'default';

const RESERVED_PAYLOAD_KEYS = new Set(['failed_revision', 'healthy_revision', 'app', 'event_id']);
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$/;
/** What an app name must look like, as every refusal says it. */
export const APP_NAME_RULE = 'expected an Argo CD application name (letters, digits, . _ / -; at most 253)';

/** True when `name` is a name Argo CD can give an app (the webhook's rule, used everywhere an app is named). */
export function isAppName(name: string): boolean {
  return APP_NAME.test(name);
}

type Json = Record<string, unknown>;

function invalid(field: string, expected: string): InvalidPayloadError {
  return new InvalidPayloadError(`${field}: ${expected}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deeper than any body Argo CD's templates or a hand-written request need; deeper is refused. */
export const MAX_JSON_DEPTH = 32;

/**
 * Looks at every key of a parsed body, iteratively (no recursion a deep body could overflow): a key
 * that could pollute prototypes if some later code merged the object (`__proto__`, `constructor`,
 * `prototype`, however the JSON escaped it), or nesting deeper than MAX_JSON_DEPTH (which would break
 * JSON.stringify later). Returns what is wrong, or undefined.
 */
export function inspectJson(value: unknown): { forbidden: string } | { tooDeep: string } | { nul: string } | undefined {
  const stack: Array<{ node: unknown; path: string; depth: number }> = [{ node: value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { node, path, depth } = stack.pop()!;
    // PostgreSQL's text cannot hold U+0000 (SQLite's can): refused on both, so both answer alike.
    if (typeof node === 'string' && node.includes('\u0000')) return { nul: path || 'body' };
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= MAX_JSON_DEPTH) return { tooDeep: path || 'body' };
    if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const keys = Object.keys(node);
    for (const key of keys) {
      if (FORBIDDEN_KEYS.includes(key)) return { forbidden: path ? `${path}.${key}` : key };
      if (key.includes('\u0000')) return { nul: path || 'body' };
    }
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      stack.push({ node: (node as Json)[key], path: path ? `${path}.${key}` : key, depth: depth + 1 });
    }
  }
  return undefined;
}

function parseApp(raw: unknown, field: string): string {
  if (typeof raw !== 'string' || raw === NO_VALUE || !APP_NAME.test(raw)) {
    throw invalid(field, APP_NAME_RULE);
  }
  return raw;
}

function revisionOrThrow(raw: unknown, kind: 'failed' | 'target', field: string): string {
  const checked = checkRevision(raw, kind);
  if (!checked.ok) throw invalid(field, checked.reason);
  return checked.value;
}

/** Shape A, the seed contract: {event_type?, client_payload: {failed_revision, healthy_revision?, app?, …}}. */
function parseShapeA(body: Json): WebhookMessage {
  const payload = body.client_payload;
  if (!isObject(payload)) throw invalid('client_payload', 'expected an object');

  let eventType: string | undefined;
  if (body.event_type !== undefined) {
    if (typeof body.event_type !== 'string' || body.event_type.length < 1 || body.event_type.length > 100) {
      throw invalid('event_type', 'expected a string of 1 to 100 characters');
    }
    if (body.event_type === NO_VALUE) throw invalid('event_type', `got "${NO_VALUE}"`);
    eventType = body.event_type;
  }

  const failedRevision = revisionOrThrow(payload.failed_revision, 'failed', 'client_payload.failed_revision');
  let requestedTarget: string | undefined;
  if (payload.healthy_revision !== undefined && payload.healthy_revision !== null) {
    requestedTarget = revisionOrThrow(payload.healthy_revision, 'target', 'client_payload.healthy_revision');
    if (requestedTarget.startsWith(failedRevision)) throw invalid('client_payload.healthy_revision', 'must differ from failed_revision');
  }
  const app = payload.app === undefined ? DEFAULT_APP : parseApp(payload.app, 'client_payload.app');

  const extras: Json = {};
  for (const [key, value] of Object.entries(payload)) {
    if (!RESERVED_PAYLOAD_KEYS.has(key)) extras[key] = value;
  }
  return { kind: 'rollback', shape: 'A', app, failedRevision, requestedTarget, eventType, extras };
}

function parseHealthStatus(raw: unknown, field: string): HealthStatus {
  if (typeof raw !== 'string' || !(HEALTH_STATUSES as readonly string[]).includes(raw)) {
    throw invalid(field, `expected one of ${HEALTH_STATUSES.join(', ')}`);
  }
  return raw as HealthStatus;
}

/** A revision for a health observation: Healthy ones become rollback targets, so they must be full ids. */
function healthMessage(shape: 'B' | 'C', app: string, status: HealthStatus, rawRevision: unknown, field: string): WebhookMessage {
  if (status === 'Degraded') {
    return { kind: 'rollback', shape, app, failedRevision: revisionOrThrow(rawRevision, 'failed', field), extras: {} };
  }
  return { kind: 'health', shape, app, status, revision: revisionOrThrow(rawRevision, status === 'Healthy' ? 'target' : 'failed', field) };
}

/** Shape B, the seed's health report: {app, status, revision}. */
function parseShapeB(body: Json): WebhookMessage {
  const app = parseApp(body.app, 'app');
  return healthMessage('B', app, parseHealthStatus(body.status, 'status'), body.revision, 'revision');
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';

/**
 * The index of the source whose revision matters for a multi-source app: the route's `source_index`,
 * else the first Git source (a source without `chart`; Helm repositories carry `chart`), else 0.
 */
function pickSourceIndex(state: Json, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  const syncResult = isObject(state.operationState) && isObject(state.operationState.syncResult) ? state.operationState.syncResult : {};
  const comparedTo = isObject(state.sync) && isObject(state.sync.comparedTo) ? state.sync.comparedTo : {};
  const sources = Array.isArray(syncResult.sources) ? syncResult.sources : Array.isArray(comparedTo.sources) ? comparedTo.sources : [];
  const git = sources.findIndex((s) => isObject(s) && !nonEmpty(s.chart));
  return git >= 0 ? git : 0;
}

function revisionOf(holder: unknown, index: number): string | undefined {
  if (!isObject(holder)) return undefined;
  if (nonEmpty(holder.revision)) return holder.revision;
  if (Array.isArray(holder.revisions) && nonEmpty(holder.revisions[index])) return holder.revisions[index];
  return undefined;
}

/** At most this many sources are read (the shipped templates send at most 20). */
export const MAX_SOURCES = 20;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * The Application's sources: `sources` as the shipped templates send them, or spec.sources / spec.source
 * of a whole Application (`toJson .app`). Undefined when the body names none.
 */
function parseSources(body: Json, isApplication: boolean): AppSource[] | undefined {
  let raw: unknown[] | undefined;
  let types: unknown[] = [];
  if (isApplication) {
    const spec = isObject(body.spec) ? body.spec : {};
    const status = isObject(body.status) ? body.status : {};
    raw = Array.isArray(spec.sources) && spec.sources.length > 0 ? spec.sources : isObject(spec.source) ? [spec.source] : undefined;
    types = Array.isArray(status.sourceTypes) ? status.sourceTypes : [status.sourceType];
    raw = raw?.map((s, i) => (isObject(s) ? { ...s, valueFiles: isObject(s.helm) ? s.helm.valueFiles : undefined, type: types[i] } : s));
  } else if (body.sources !== undefined && body.sources !== null) {
    if (!Array.isArray(body.sources)) throw invalid('sources', 'expected an array');
    raw = body.sources;
  }
  if (raw === undefined || raw.length === 0) return undefined;
  if (raw.length > MAX_SOURCES) throw invalid('sources', `expected at most ${MAX_SOURCES} sources`);
  return raw.map((s, i) => {
    if (!isObject(s)) throw invalid(`sources[${i}]`, 'expected an object');
    const valueFiles = s.valueFiles ?? [];
    if (!Array.isArray(valueFiles) || valueFiles.some((f) => typeof f !== 'string')) throw invalid(`sources[${i}].valueFiles`, 'expected an array of strings');
    for (const key of ['repoURL', 'path', 'targetRevision', 'chart', 'ref', 'type']) {
      if (s[key] !== undefined && s[key] !== null && typeof s[key] !== 'string') throw invalid(`sources[${i}].${key}`, 'expected a string');
    }
    return { repoURL: str(s.repoURL), path: str(s.path), targetRevision: str(s.targetRevision), chart: str(s.chart), ref: str(s.ref), valueFiles: valueFiles as string[], type: str(s.type) };
  });
}

/** Every source's deployed revision: syncResult.revisions, else [syncResult.revision] (single source). */
function revisionsOf(holder: unknown): string[] | undefined {
  if (!isObject(holder)) return undefined;
  if (Array.isArray(holder.revisions) && holder.revisions.length > 0 && holder.revisions.every((r) => typeof r === 'string')) return (holder.revisions).map((r) => r.toLowerCase());
  return nonEmpty(holder.revision) ? [holder.revision.toLowerCase()] : undefined;
}

/** The operation phase of a sync that finished well (gitops-engine `OperationPhase`). */
const SUCCEEDED = 'Succeeded';

/**
 * What the body says Argo CD runs and what it is trying to sync, as holders of `revision`/`revisions`:
 * - `pending`: an operation is running, retrying, failed or in error (any phase but Succeeded or none):
 *   the body cannot tell what runs then.
 * - `deployed` (not pending): the revision set Argo CD ran and finished syncing: a Succeeded operation's
 *   syncResult, or with no operation on record the newest history entry (history holds finished syncs only).
 * - `attempted` (pending): that operation's revision set (its syncResult, else the sync it was asked for:
 *   operation.sync, which a whole Application carries).
 * status.sync.revision is never either: it is what Git has, the comparison target, which moves ahead of
 * what was deployed as soon as Argo CD compares.
 */
function readOperation(status: Json, history: unknown[] | undefined): { phase: string; pending: boolean; deployed?: Json; attempted?: Json } {
  const state = isObject(status.operationState) ? status.operationState : {};
  const phase = str(state.phase);
  const syncResult = isObject(state.syncResult) && revisionsOf(state.syncResult) !== undefined ? state.syncResult : undefined;
  if (phase === SUCCEEDED || phase === '') {
    const newest = history?.[history.length - 1];
    return { phase, pending: false, deployed: syncResult ?? (isObject(newest) && revisionsOf(newest) !== undefined ? newest : undefined) };
  }
  const requested = isObject(state.operation) && isObject(state.operation.sync) && revisionsOf(state.operation.sync) !== undefined ? state.operation.sync : undefined;
  return { phase, pending: true, attempted: syncResult ?? requested };
}

/**
 * Shape C, the Argo CD application state the shipped template sends ({app, health, sync,
 * operationState, history}), or a whole Application object (`toJson .app`). A report vouches for the
 * revision Argo CD deployed (readOperation), never for one it is still trying to sync; a Degraded one
 * blames what changed: the unfinished sync's revision while one runs or has failed, else the deployed one.
 */
function parseShapeC(body: Json, sourceIndexFor: (app: string) => number | undefined): WebhookMessage {
  const isApplication = isObject(body.metadata) && isObject(body.status);
  const status = isApplication ? (body.status as Json) : body;
  const app = isApplication ? parseApp((body.metadata as Json).name, 'metadata.name') : parseApp(body.app, 'app');
  if (!isObject(status.health)) throw invalid(isApplication ? 'status.health' : 'health', 'expected an object with status');
  const health = parseHealthStatus(status.health.status, isApplication ? 'status.health.status' : 'health.status');

  const sources = parseSources(body, isApplication);
  const index = sources !== undefined && sourceIndexFor(app) === undefined ? Math.max(0, sources.findIndex((s) => s.chart === '')) : pickSourceIndex(status, sourceIndexFor(app));
  const rawHistory = status.history;
  if (rawHistory !== undefined && rawHistory !== null && !Array.isArray(rawHistory)) throw invalid('history', 'expected an array');
  const operation = readOperation(status, Array.isArray(rawHistory) ? rawHistory : undefined);
  // Degraded blames what changed (an unfinished sync's revision), anything else vouches for what runs.
  const holder = health === 'Degraded' && operation.pending ? operation.attempted : operation.deployed;
  const synced = revisionOf(holder, index);
  // Every source is a chart (the first Git source would have been picked); a route's source_index that
  // names a chart is the route's mistake, refused below by the revision check.
  if (sourceIndexFor(app) === undefined && sources?.[index]?.chart && (synced ?? revisionOf(status.sync, index)) !== undefined) {
    const source = sources[index];
    const version = synced ?? revisionOf(status.sync, index) ?? '';
    return {
      kind: 'not_restorable',
      shape: 'C',
      app,
      health,
      revision: version,
      reason: `the app renders the Helm chart ${source.chart} ${version} from the chart repository ${source.repoURL}: a chart version is not a commit, nothing in git can undo it; roll the chart back by hand (targetRevision)`,
    };
  }
  const { pending } = operation;
  if (health !== 'Degraded' && synced === undefined && (pending || revisionOf(status.sync, index) !== undefined)) {
    const trying = revisionOf(operation.attempted, index);
    return {
      kind: 'health_not_recorded',
      shape: 'C',
      app,
      status: health,
      reason:
        pending
          ? `Argo CD's sync${trying ? ` of ${trying}` : ''} is ${operation.phase}: the report cannot tell which revision runs, so it vouches for none (the next sync that succeeds is recorded)`
          : `the body names no revision Argo CD deployed (no succeeded sync, no history), only what Git has (sync.revision ${revisionOf(status.sync, index)}), which Argo CD never ran: nothing recorded`,
    };
  }
  const deployedBefore = Array.isArray(rawHistory) && rawHistory.length > 0;
  if (synced === undefined && health === 'Degraded' && (!pending || !deployedBefore)) {
    // sync.revision alone is what Git has, not what Argo CD deployed: blaming it would poison a good commit.
    return { kind: 'not_deployed', shape: 'C', app, reason: 'Argo CD never synced this app (no operationState.syncResult revision, no history): there is no deployed revision to roll back from' };
  }
  // A sync still running or failed that names no revision of its own: it is syncing what Git has.
  const revision = synced ?? revisionOf(status.sync, index);
  const field = 'operationState.syncResult.revision (or sync.revision)';
  if (revision === undefined) throw invalid(field, 'required: no synced revision in the body');

  const message = healthMessage('C', app, health, revision, field);
  if (message.kind === 'rollback') {
    message.history = Array.isArray(rawHistory)
      ? rawHistory.map((h) => ({ id: isObject(h) && typeof h.id === 'number' ? h.id : null, revision: revisionOf(h, index)?.toLowerCase() ?? null, revisions: revisionsOf(h) }))
      : undefined;
    if (sources !== undefined) {
      message.sources = sources;
      message.sourceIndex = index;
      message.failedRevisions = revisionsOf(holder) ?? revisionsOf(status.sync);
    }
  }
  return message;
}

/**
 * Tells the three body shapes apart by their fields and turns the body into a message, or throws
 * INVALID_PAYLOAD naming the field. `sourceIndexFor` gives a route's `source_index` for an app.
 */
export function parseWebhookMessage(body: unknown, sourceIndexFor: (app: string) => number | undefined = () => undefined): WebhookMessage {
  if (!isObject(body)) {
    throw invalid('body', `expected a JSON object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}`);
  }
  if ('client_payload' in body) return parseShapeA(body);
  if ('health' in body || 'operationState' in body || 'history' in body || 'sync' in body || (isObject(body.metadata) && isObject(body.status))) {
    return parseShapeC(body, sourceIndexFor);
  }
  if ('status' in body && 'revision' in body) return parseShapeB(body);
  throw invalid(
    'body',
    'expected {event_type, client_payload: {failed_revision, …}}, a health report {app, status, revision}, or an Argo CD application state {app, health, sync, operationState, history}',
  );
}

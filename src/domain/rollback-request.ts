import { AppError } from '../errors';
import { NO_VALUE, checkRevision } from './revision';

/** A rollback request after validation, whatever body shape it came in. */
export interface RollbackRequest {
  app: string;
  failedRevision: string;
  healthyRevision: string;
  /** `event_type` for GitHub; undefined means the configured default (WEBHOOK_EVENT). */
  eventType: string | undefined;
  /** Other client_payload keys, passed through to the workflow unchanged. */
  extras: Record<string, unknown>;
}

/** Used when a shape-A body names no app: seed setups have one app per GitOps repository. */
export const DEFAULT_APP = 'default';

const RESERVED_PAYLOAD_KEYS = new Set(['failed_revision', 'healthy_revision', 'app', 'event_id']);
const FORBIDDEN_KEYS = ['__proto__', 'constructor', 'prototype'];
const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,252}$/;

function invalid(field: string, expected: string): AppError {
  return new AppError('INVALID_PAYLOAD', `${field}: ${expected}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds a key that could pollute prototypes if some later code merged this object. The raw text is
 * scanned first so ordinary bodies pay for one `includes` per word, not a walk of the tree.
 */
export function findForbiddenKey(rawText: string, value: unknown): string | undefined {
  if (!FORBIDDEN_KEYS.some((key) => rawText.includes(key))) return undefined;
  const walk = (node: unknown, path: string): string | undefined => {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const found = walk(node[i], `${path}[${i}]`);
        if (found) return found;
      }
    } else if (isPlainObject(node)) {
      for (const key of Object.keys(node)) {
        const here = path ? `${path}.${key}` : key;
        if (FORBIDDEN_KEYS.includes(key)) return here;
        const found = walk(node[key], here);
        if (found) return found;
      }
    }
    return undefined;
  };
  return walk(value, '');
}

/**
 * Turns a parsed webhook body into a rollback request, or throws INVALID_PAYLOAD naming the field.
 * Shape A is the seed contract; shapes B (health report) and C (Argo CD application state) are
 * recognised and refused until the rollback policy can choose their target (issue #3).
 */
export function parseRollbackRequest(body: unknown): RollbackRequest {
  if (!isPlainObject(body)) {
    throw invalid('body', `expected a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}`);
  }
  if (!('client_payload' in body)) {
    if (typeof body.status === 'string' && 'revision' in body) {
      throw invalid('body', 'health reports ({app, status, revision}) are not supported yet; send {event_type, client_payload}');
    }
    if ('health' in body || 'operationState' in body || 'history' in body || 'sync' in body) {
      throw invalid('body', 'Argo CD application state bodies are not supported yet; send {event_type, client_payload}');
    }
    throw invalid('client_payload', 'required: an object with failed_revision and healthy_revision');
  }

  const payload = body.client_payload;
  if (!isPlainObject(payload)) throw invalid('client_payload', 'expected an object');

  let eventType: string | undefined;
  if (body.event_type !== undefined) {
    if (typeof body.event_type !== 'string' || body.event_type.length < 1 || body.event_type.length > 100) {
      throw invalid('event_type', 'expected a string of 1 to 100 characters');
    }
    if (body.event_type === NO_VALUE) throw invalid('event_type', `got "${NO_VALUE}"`);
    eventType = body.event_type;
  }

  const failed = checkRevision(payload.failed_revision, 'failed');
  if (!failed.ok) throw invalid('client_payload.failed_revision', failed.reason);
  const healthy = checkRevision(payload.healthy_revision, 'target');
  if (!healthy.ok) throw invalid('client_payload.healthy_revision', healthy.reason);
  if (healthy.value.startsWith(failed.value)) {
    throw invalid('client_payload.healthy_revision', 'must differ from failed_revision');
  }

  let app = DEFAULT_APP;
  if (payload.app !== undefined) {
    if (typeof payload.app !== 'string' || payload.app === NO_VALUE || !APP_NAME.test(payload.app)) {
      throw invalid('client_payload.app', 'expected an Argo CD application name (letters, digits, . _ / -; at most 253)');
    }
    app = payload.app;
  }

  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) {
    if (!RESERVED_PAYLOAD_KEYS.has(key)) extras[key] = value;
  }
  return { app, failedRevision: failed.value, healthyRevision: healthy.value, eventType, extras };
}

import { ERROR_CATALOGUE } from '../errors';
import { ATTEMPT_OUTCOMES, EVENT_STATUSES, OUTCOMES } from '../domain/rollback-event';
import { VERSION } from '../version';

/**
 * The OpenAPI 3.1 description of every endpoint, served at GET /openapi.json. The test suites check
 * every response they receive against it (tests/support/openapi-check.ts), so it cannot drift from the
 * code unnoticed.
 */
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const time = nullable('string', { format: 'date-time' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown) => ({ 'application/json': { schema } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [String(s), { description: Object.entries(ERROR_CATALOGUE).filter(([, e]) => e.status === s).map(([code]) => code).join(', '), content: json(ref('Error')) }]));
const bearer = [{ bearer: [] }, { basic: [] }, { webhookToken: [] }];

const event = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'app', 'status', 'failed_revision', 'healthy_revision', 'repository', 'event_type', 'attempts', 'created_at', 'outcome'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    app: { type: 'string' },
    status: { enum: [...EVENT_STATUSES] },
    failed_revision: { type: 'string', pattern: '^[0-9a-f]{7,64}$' },
    healthy_revision: { type: 'string', pattern: '^[0-9a-f]{40,64}$' },
    target_reason: nullable('string'),
    suppression_reason: nullable('string'),
    repository: { type: 'string' },
    restore: {
      description: 'What the rollback restores in this repository, path by path and why (null for events stored before restore plans)',
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['from', 'paths', 'notes', 'other_events'],
          properties: {
            from: { enum: ['application', 'route', 'VALUES_PATHS', 'workflow default'] },
            paths: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['path', 'why'], properties: { path: { type: 'string' }, why: { type: 'string' } } } },
            notes: { type: 'array', items: { type: 'string' } },
            other_events: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['id', 'repository'], properties: { id: { type: 'string' }, repository: { type: 'string' } } } },
          },
        },
      ],
    },
    event_type: { type: 'string' },
    attempts: { type: 'integer', minimum: 0 },
    next_attempt_at: time,
    last_error: nullable('string'),
    request_id: nullable('string'),
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    delivered_at: time,
    outcome: { enum: [...OUTCOMES, null] },
    outcome_reason: nullable('string'),
    run_url: nullable('string'),
    restore_commit: nullable('string'),
    restore_url: nullable('string'),
    pull_request_url: nullable('string'),
    redispatches: { type: 'integer', minimum: 0 },
  },
};

export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'gitops-rollback-webhook',
    version: VERSION,
    description: 'Argo CD Degraded webhook → durable queue → GitHub repository_dispatch, followed to its outcome.',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      basic: { type: 'http', scheme: 'basic', description: 'the password is the token (what Argo CD basicAuth sends)' },
      webhookToken: { type: 'apiKey', in: 'header', name: 'X-Webhook-Token' },
    },
    schemas: {
      Error: {
        type: 'object',
        additionalProperties: false,
        required: ['error'],
        properties: { error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { enum: Object.keys(ERROR_CATALOGUE) }, message: { type: 'string' } } } },
      },
      Event: event,
      EventDetail: {
        allOf: [{ ...event, additionalProperties: true }],
        type: 'object',
        required: ['dispatch', 'delivery_attempts', 'outcome_history', 'verified_by', 'acknowledged'],
        properties: {
          dispatch: { type: 'object', required: ['event_type', 'client_payload'] },
          delivery_attempts: {
            type: 'array',
            items: { type: 'object', additionalProperties: false, required: ['attempt', 'started_at', 'finished_at', 'status_code', 'outcome', 'error', 'next_attempt_at'], properties: { attempt: { type: 'integer' }, started_at: { type: 'string' }, finished_at: { type: 'string' }, status_code: nullable('integer'), outcome: { enum: [...ATTEMPT_OUTCOMES] }, error: nullable('string'), next_attempt_at: time } },
          },
          outcome_history: { type: 'array', items: { type: 'object', additionalProperties: false, required: ['at', 'outcome', 'reason', 'url'], properties: { at: { type: 'string' }, outcome: { enum: [...OUTCOMES] }, reason: { type: 'string' }, url: nullable('string') } } },
          verified_by: { type: ['object', 'null'], required: ['report_id', 'revision', 'reported_at'] },
          acknowledged: ref('Acknowledgement'),
        },
      },
      Accepted: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'status', 'app', 'failed_revision', 'healthy_revision', 'target_reason', 'restore'],
        properties: {
          id: { type: 'string', format: 'uuid' },
          status: { enum: ['queued', 'dry_run'] },
          app: { type: 'string' },
          failed_revision: { type: 'string' },
          healthy_revision: { type: 'string' },
          target_reason: { type: 'string' },
          restore: {
            description: 'One event per repository the rollback restores in (the first is `id`)',
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['id', 'repository', 'from', 'paths'],
              properties: { id: { type: 'string' }, repository: { type: 'string' }, from: { enum: ['application', 'route', 'VALUES_PATHS', 'workflow default'] }, paths: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
      },
      Answered: {
        oneOf: [
          { type: 'object', additionalProperties: false, required: ['status', 'id'], properties: { status: { const: 'duplicate' }, id: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['status', 'app', 'health', 'revision'], properties: { status: { const: 'recorded' }, app: { type: 'string' }, health: { type: 'string' }, revision: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['status', 'app', 'message'], properties: { status: { const: 'not_deployed' }, app: { type: 'string' }, message: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['status', 'app', 'health', 'message'], properties: { status: { const: 'not_recorded' }, app: { type: 'string' }, health: { type: 'string' }, message: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['status', 'app', 'revision', 'message'], properties: { status: { const: 'not_a_deploy' }, app: { type: 'string' }, revision: { type: 'string' }, message: { type: 'string' } } },
          { type: 'object', additionalProperties: false, required: ['status', 'app', 'revision', 'message'], properties: { status: { const: 'not_restorable' }, app: { type: 'string' }, revision: { type: 'string' }, message: { type: 'string' } } },
        ],
      },
      Pause: nullable('object', { required: ['reason', 'by', 'since'], properties: { reason: { type: 'string' }, by: { type: 'string' }, since: { type: 'string' } } }),
      Acknowledgement: nullable('object', { required: ['by', 'reason', 'at', 'via'], properties: { by: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string' }, via: { enum: ['ui', 'api'] } } }),
    },
  },
  paths: {} as Record<string, unknown>,
};

const webhook = {
  post: {
    summary: 'Argo CD webhook: a rollback request (shape A), a health report (B) or an application state (C)',
    security: bearer,
    requestBody: { required: true, content: json({ type: 'object' }) },
    responses: {
      '202': { description: 'a rollback was stored and will be delivered', headers: { Location: { schema: { type: 'string' } } }, content: json(ref('Accepted')) },
      '200': { description: 'duplicate, recorded, not_recorded, not_deployed, not_a_deploy or not_restorable', content: json(ref('Answered')) },
      ...errors(400, 401, 409, 413, 415, 422, 429, 431, 500, 503),
    },
  },
};
const admin = { security: bearer };
OPENAPI_DOCUMENT.paths = {
  '/': webhook,
  '/v1/webhooks/argocd': webhook,
  '/v1/events': { get: { ...admin, summary: 'Events, newest first', parameters: ['app', 'status', 'outcome', 'limit', 'before'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })), responses: { '200': { description: 'the events; `next` is the next page (the same query with before=<last id>), null after the last', content: json({ type: 'object', required: ['events', 'next'], properties: { events: { type: 'array', items: ref('Event') }, next: { type: ['string', 'null'] } } }) }, ...errors(400, 401, 422, 429, 431, 500, 503) } } },
  '/v1/events/{id}': { get: { ...admin, summary: 'One event, its attempts and its outcome history', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'the event', content: json(ref('EventDetail')) }, ...errors(400, 401, 404, 429, 431, 500, 503) } } },
  '/v1/events/{id}/acknowledge': {
    post: {
      ...admin,
      summary: 'Acknowledge a rollback that ended restore_failed, run_missing or unverified: recorded with who and why, it leaves the status page banner',
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
      requestBody: { required: true, content: json({ type: 'object', required: ['reason', 'by'], properties: { reason: { type: 'string' }, by: { type: 'string' } } }) },
      responses: { '200': { description: 'acknowledged', content: json({ type: 'object', required: ['id', 'app', 'outcome', 'acknowledged'], properties: { id: { type: 'string' }, app: { type: 'string' }, outcome: { type: 'string' }, acknowledged: ref('Acknowledgement') } }) }, ...errors(400, 401, 404, 409, 415, 422, 429, 431, 500, 503) },
    },
  },
  '/v1/events/{id}/replay': { post: { ...admin, summary: 'Put a finished event back on the queue (dry_run for a dry-run app)', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }], responses: { '202': { description: 'replayed', content: json(ref('Event')) }, ...errors(400, 401, 404, 409, 429, 431, 500, 503) } } },
  '/v1/apps': { get: { ...admin, summary: 'The apps by name, a page at a time, each with its last report, rollback, outcome and pause', parameters: ['limit', 'after'].map((name) => ({ name, in: 'query', schema: { type: 'string' } })), responses: { '200': { description: 'the apps; `next` is the next page (the same query with after=<last app>), null after the last', content: json({ type: 'object', required: ['apps', 'next'], properties: { apps: { type: 'array', items: { type: 'object', required: ['app', 'last_report', 'healthy_revisions', 'known_failed_revisions', 'last_rollback', 'last_refusal', 'paused'], properties: { paused: ref('Pause') } } }, next: { type: ['string', 'null'] } } }) }, ...errors(401, 422, 429, 431, 500, 503) } } },
  '/v1/apps/{app}': { get: { ...admin, summary: 'What the policy knows about one app', parameters: [{ name: 'app', in: 'path', required: true, schema: { type: 'string' } }], responses: { '200': { description: 'the app', content: json({ type: 'object', required: ['app', 'paused', 'route', 'ledger', 'known_failed', 'degraded_without_rollback', 'last_outcome', 'rollbacks'], properties: { paused: ref('Pause'), last_outcome: { enum: [...OUTCOMES, null] } } }) }, ...errors(400, 401, 404, 429, 431, 500, 503) } } },
  '/v1/apps/{app}/pause': { post: { ...admin, summary: 'Pause an app: its rollbacks are recorded and refused', parameters: [{ name: 'app', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { required: true, content: json({ type: 'object', required: ['reason', 'by'], properties: { reason: { type: 'string' }, by: { type: 'string' }, allow_unseen: { type: 'boolean', description: 'pause an app the service has not heard of yet (else 404)' } } }) }, responses: { '200': { description: 'paused', content: json({ type: 'object', required: ['app', 'paused'], properties: { paused: ref('Pause'), unseen: { type: 'boolean' } } }) }, ...errors(400, 401, 404, 415, 422, 429, 431, 500, 503) } } },
  '/v1/apps/{app}/resume': { post: { ...admin, summary: 'Resume an app', parameters: [{ name: 'app', in: 'path', required: true, schema: { type: 'string' } }], requestBody: { required: true, content: json({ type: 'object', required: ['by'], properties: { by: { type: 'string' }, reason: { type: 'string' } } }) }, responses: { '200': { description: 'resumed', content: json({ type: 'object', required: ['app', 'paused', 'resumed_by', 'was_paused'], properties: { paused: { type: 'null' }, was_paused: ref('Pause') } }) }, ...errors(400, 401, 404, 415, 422, 429, 431, 500, 503) } } },
  '/v1/status': { get: { ...admin, summary: 'Version, store, routes, GitHub wiring checks, queue figures', responses: { '200': { description: 'the status', content: json({ type: 'object', required: ['version', 'store', 'dry_run', 'repository', 'routes', 'github', 'queue', 'notifications', 'needs_a_person'] }) }, ...errors(401, 429, 431, 500, 503) } } },
  '/healthz': { get: { summary: 'The process answers', responses: { '200': { description: 'alive', content: json({ type: 'object', required: ['status'], properties: { status: { const: 'ok' } } }) } } } },
  '/readyz': { get: { summary: 'The store answers (and GitHub, with READY_REQUIRES_GITHUB)', responses: { '200': { description: 'ready', content: json({ type: 'object', required: ['status', 'github'], properties: { status: { const: 'ready' }, github: { type: ['object', 'null'] } } }) }, ...errors(500, 503) } } },
  '/metrics': { get: { summary: 'Prometheus metrics', security: [{ bearer: [] }, {}], responses: { '200': { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(401, 429, 431) } } },
  '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object', required: ['openapi', 'paths'] }) } } } },
};

import type { RequestHandler } from 'express';
import { z } from 'zod';
import type { DeliveryAttempt, OutcomeHistoryEntry, RollbackEvent } from '../../domain/rollback-event';
import { AppError } from '../../errors';
import { EVENT_STATUSES, OUTCOMES } from '../../domain/rollback-event';
import { withDispatchId } from '../../domain/dispatch-body';
import { findReport, listOutcomeHistory } from '../../store/outcome-follows.repository';
import { findEvent, findEventTime, listEvents } from '../../store/events.repository';
import { acknowledgeByHand, replayByHand } from '../../rollback/actions-by-hand';
import { findAcknowledgement } from '../../store/attention.repository';
import { byField, parseBody, reasonField } from '../parse-body';
import type { AppDeps } from '../app-deps';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toEventView(event: RollbackEvent) {
  return {
    id: event.id,
    app: event.app,
    status: event.status,
    failed_revision: event.failedRevision,
    healthy_revision: event.healthyRevision,
    target_reason: event.targetReason,
    suppression_reason: event.suppressionReason,
    repository: `${event.target.owner}/${event.target.repo}`,
    restore: event.restorePlan === null ? null : {
      from: event.restorePlan.target.from,
      paths: event.restorePlan.target.paths,
      notes: event.restorePlan.notes,
      other_events: event.restorePlan.siblings,
    },
    event_type: event.eventType,
    attempts: event.attempts,
    next_attempt_at: iso(event.nextAttemptAt),
    last_error: event.lastError,
    request_id: event.requestId,
    created_at: iso(event.createdAt),
    updated_at: iso(event.updatedAt),
    delivered_at: iso(event.deliveredAt),
    outcome: event.outcome,
    outcome_reason: event.outcomeReason,
    run_url: event.runUrl,
    restore_commit: event.restoreCommit,
    restore_url: event.restoreUrl,
    pull_request_url: event.pullRequestUrl,
    redispatches: event.redispatches,
  };
}

function toHistoryView(entry: OutcomeHistoryEntry) {
  return { at: iso(entry.at), outcome: entry.outcome, reason: entry.reason, url: entry.url };
}

function toAttemptView(attempt: DeliveryAttempt) {
  return {
    attempt: attempt.attempt,
    started_at: iso(attempt.startedAt),
    finished_at: iso(attempt.finishedAt),
    status_code: attempt.statusCode,
    outcome: attempt.outcome,
    error: attempt.error,
    next_attempt_at: iso(attempt.nextAttemptAt),
  };
}

const listQuery = z.object({
  app: z.string().min(1).max(253).optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  outcome: z.enum(OUTCOMES).optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .default(50),
  /** The last event of the previous page: this page holds the events listed after it (older ones). */
  before: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'expected an event id (the last id of the previous page)').optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function requireEventId(id: unknown): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new AppError('NOT_FOUND', 'no such event');
  return id;
}

const stringsOf = (filter: Record<string, string | number | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(filter).flatMap(([key, value]) => (value === undefined ? [] : [[key, String(value)]])));

/** When a UUIDv7 was made (its first 48 bits, milliseconds), or undefined for another kind of UUID. */
function uuidV7Time(id: string): number | undefined {
  return id[14] === '7' ? Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16) : undefined;
}

const acknowledgeBody = z.strictObject({ reason: reasonField('shown with the rollback'), by: byField });

export function createEventsController({ config, store, clock, onEventStored }: AppDeps) {
  /** The cursor of a page: its event's time, or, for an event retention has since deleted, the time in its UUIDv7 id. */
  const cursorOf = async (id: string) => {
    const createdAt = (await findEventTime(store.db, id)) ?? uuidV7Time(id);
    if (createdAt === undefined) throw new AppError('INVALID_PAYLOAD', 'before: no such event, and not a UUIDv7 id to page from');
    return { createdAt, id };
  };

  const list: RequestHandler = async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) {
      const issue = query.error.issues[0]!;
      throw new AppError('INVALID_PAYLOAD', `${issue.path.join('.')}: ${issue.message}`);
    }
    const { before, ...filter } = query.data;
    const events = await listEvents(store.db, { ...filter, before: before === undefined ? undefined : await cursorOf(before) });
    const last = events[events.length - 1];
    // A full page may have a next one: the same query after its last event.
    const next = events.length === filter.limit && last ? `/v1/events?${new URLSearchParams({ ...stringsOf(filter), before: last.id }).toString()}` : null;
    if (next) res.links({ next });
    res.json({ events: events.map(toEventView), next });
  };

  const get: RequestHandler = async (req, res) => {
    const found = await findEvent(store.db, requireEventId(req.params.id));
    if (!found) throw new AppError('NOT_FOUND', 'no such event');
    const event = found.event;
    const history = await listOutcomeHistory(store.db, event.id);
    const verifiedBy = event.verifiedReportId ? await findReport(store.db, event.verifiedReportId) : undefined;
    const acknowledged = await findAcknowledgement(store.db, event.id);
    res.json({
      ...toEventView(event),
      // As the current delivery sends it (with its dispatch id); a refused event's was never sent.
      dispatch: JSON.parse(found.dispatchId ? withDispatchId(event.dispatchBody, found.dispatchId) : event.dispatchBody) as unknown,
      delivery_attempts: found.attempts.map(toAttemptView),
      outcome_history: history.map(toHistoryView),
      verified_by: verifiedBy ? { report_id: verifiedBy.id, revision: verifiedBy.revision, reported_at: iso(verifiedBy.reportedAt) } : null,
      acknowledged: acknowledged ? { by: acknowledged.by, reason: acknowledged.reason, at: iso(acknowledged.at), via: acknowledged.via } : null,
    });
  };

  const replay: RequestHandler = async (req, res) => {
    const id = requireEventId(req.params.id);
    // The JSON API knows the admin token, not a person: the record says so.
    const result = await replayByHand(config, store, id, { by: 'admin token (API)', reason: null, via: 'api' }, clock.now());
    req.log.info({ eventId: id, previous: result.previous }, 'replay requested');
    onEventStored?.();
    res.status(202).location(`/v1/events/${id}`).json(toEventView(result.event));
  };

  /** POST /v1/events/{id}/acknowledge {reason, by}: a person takes a dead-end rollback from here; it leaves the banner. */
  const acknowledge: RequestHandler = async (req, res) => {
    const id = requireEventId(req.params.id);
    const body = parseBody(acknowledgeBody, req.body);
    const at = clock.now();
    const { app, outcome } = await acknowledgeByHand(store, id, { by: body.by, reason: body.reason, via: 'api' }, at);
    req.log.info({ eventId: id, app, outcome, by: body.by, reason: body.reason }, `rollback acknowledged: ${body.reason}`);
    res.json({ id, app, outcome, acknowledged: { by: body.by, reason: body.reason, at: iso(at), via: 'api' } });
  };

  return { list, get, replay, acknowledge };
}

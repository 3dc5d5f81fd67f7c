import type { RequestHandler } from 'express';
import { routeFor } from '../../config/config';
import { healthyLedger, knownFailedReports } from '../../domain/rollback-policy';
import { AppError } from '../../errors';
import { listEvents } from '../../store/events.repository';
import { findPause, findPauses, type AppPause } from '../../store/pauses.repository';
import { pauseByHand, resumeByHand } from '../../rollback/actions-by-hand';
import { listAppCounts, listAppHeads, listAppNames } from '../../store/apps.repository';
import { findEventsByIds } from '../../store/events.repository';
import { findReportsByIds, listReports } from '../../store/reports.repository';
import { z } from 'zod';
import type { AppDeps } from '../app-deps';
import { byField, parseBody, reasonField } from '../parse-body';

const RECENT = 20;
/** Apps a page of GET /v1/apps holds by default, and at most (?limit=). */
const APPS_PER_PAGE = 100;
const MAX_APPS_PER_PAGE = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_APPS_PER_PAGE).default(APPS_PER_PAGE),
  after: z.string().min(1).max(253).optional(),
});

const pauseBody = z.strictObject({ reason: reasonField('shown to everyone and in every refusal'), by: byField, allow_unseen: z.boolean().optional() });
const resumeBody = z.strictObject({ by: byField, reason: z.string().trim().max(500).optional() });

const pauseView = (pause: AppPause | undefined) => (pause ? { reason: pause.reason, by: pause.by, since: iso(pause.since) } : null);

/** GET /v1/apps and GET /v1/apps/{app}: what the policy knows about each app; POST …/pause and …/resume. */
export function createAppsController({ config, store, clock }: AppDeps) {
  /**
   * A page of apps in a fixed number of statements, whatever its size and the history: the names (keyset
   * by name), where each app's newest report, refusal and rollback are, their counts, then those rows and
   * the pauses by key. Reading each app's newest 500 reports cost up to 3,000 queries a call.
   */
  const list: RequestHandler = async (req, res) => {
    const query = listQuery.safeParse(req.query);
    if (!query.success) {
      const issue = query.error.issues[0]!;
      throw new AppError('INVALID_PAYLOAD', `${issue.path.join('.')}: ${issue.message}`);
    }
    const { limit, after } = query.data;
    const names = await listAppNames(store.db, limit, 0, after);
    // No loop-guard window here: counted from now, nothing.
    const [heads, counts, pauses] = await Promise.all([listAppHeads(store.db, names.map((app) => ({ app, since: clock.now() }))), listAppCounts(store.db, names), findPauses(store.db, names)]);
    const [events, reports] = await Promise.all([
      findEventsByIds(store.db, heads.flatMap((h) => (h.lastEventId ? [h.lastEventId] : []))),
      findReportsByIds(store.db, heads.flatMap((h) => [h.lastReportId, h.lastRefusalId].filter((id): id is string => id !== null))),
    ]);
    const eventById = new Map(events.map((e) => [e.id, e]));
    const reportById = new Map(reports.map((r) => [r.id, r]));
    const headOf = new Map(heads.map((h) => [h.app, h]));
    const countOf = new Map(counts.map((c) => [c.app, c]));
    const apps = names.map((app) => {
      const head = headOf.get(app);
      const last = head?.lastReportId ? reportById.get(head.lastReportId) : undefined;
      const lastRollback = head?.lastEventId ? eventById.get(head.lastEventId) : undefined;
      // The newest Degraded report that rolled nothing back, and why (no healthy revision, long healthy, …).
      const refusal = head?.lastRefusalId ? reportById.get(head.lastRefusalId) : undefined;
      return {
        app,
        last_report: last ? { status: last.status, revision: last.revision, reported_at: iso(last.reportedAt) } : null,
        healthy_revisions: countOf.get(app)?.healthyRevisions ?? 0,
        known_failed_revisions: countOf.get(app)?.knownFailedRevisions ?? 0,
        last_rollback: lastRollback ? { id: lastRollback.id, status: lastRollback.status, outcome: lastRollback.outcome, created_at: iso(lastRollback.createdAt) } : null,
        last_refusal: refusal ? { revision: refusal.revision, reason: refusal.note, reported_at: iso(refusal.reportedAt), newer_than_last_rollback: !lastRollback || refusal.reportedAt >= lastRollback.createdAt } : null,
        paused: pauseView(pauses.find((p) => p.app === app)),
      };
    });
    const lastName = names[names.length - 1];
    const next = names.length === limit && lastName !== undefined ? `/v1/apps?${new URLSearchParams({ limit: String(limit), after: lastName }).toString()}` : null;
    if (next) res.links({ next });
    res.json({ apps, next });
  };

  const get: RequestHandler = async (req, res) => {
    const app = String(req.params.app);
    const reports = await listReports(store.db, app);
    const rollbacks = await listEvents(store.db, { app, limit: RECENT });
    const paused = await findPause(store.db, app);
    if (reports.length === 0 && rollbacks.length === 0 && !paused) throw new AppError('NOT_FOUND', `no reports or rollbacks for app ${JSON.stringify(app)}`);
    const failed = knownFailedReports(reports);
    const route = routeFor(config, app);
    res.json({
      app,
      paused: pauseView(paused),
      route: {
        repository: `${route.owner}/${route.repo}`,
        event_type: route.eventType,
        values_paths: route.valuesPaths ?? null,
        source_index: route.sourceIndex ?? null,
        dry_run: route.dryRun,
        loop_guard: { max_per_window: route.maxPerWindow, window_minutes: route.windowMinutes },
        matched: route.matched ?? null,
      },
      ledger: healthyLedger(reports)
        .slice(0, RECENT)
        .map((r) => ({ revision: r.revision, recorded_at: iso(r.reportedAt), known_failed: failed.some((f) => f.revision === r.revision) })),
      known_failed: failed.slice(0, RECENT).map((r) => ({ revision: r.revision, reported_at: iso(r.reportedAt), source: r.source })),
      // Degraded reports that rolled nothing back, with why: no healthy revision, long healthy, a chart
      // version, never deployed (a refusal's revision is "none" when Argo CD never deployed the app).
      degraded_without_rollback: reports
        .filter((r) => r.note)
        .slice(0, RECENT)
        .map((r) => ({ revision: r.revision, reported_at: iso(r.reportedAt), reason: r.note })),
      last_outcome: rollbacks.find((e) => e.outcome !== null)?.outcome ?? null,
      rollbacks: rollbacks.map((e) => ({
        id: e.id,
        status: e.status,
        failed_revision: e.failedRevision,
        healthy_revision: e.healthyRevision,
        target_reason: e.targetReason,
        suppression_reason: e.suppressionReason,
        outcome: e.outcome,
        outcome_reason: e.outcomeReason,
        created_at: iso(e.createdAt),
      })),
    });
  };

  /** POST /v1/apps/{app}/pause {reason, by}: the app's rollbacks are recorded and refused until resumed. */
  const pause: RequestHandler = async (req, res) => {
    const app = String(req.params.app);
    const body = parseBody(pauseBody, req.body);
    const { since, unseen } = await pauseByHand(store, app, { by: body.by, reason: body.reason, via: 'api', allowUnseen: body.allow_unseen }, clock.now());
    req.log.warn({ app, by: body.by, reason: body.reason, unseen }, `app paused${unseen ? ' before it sent anything (allow_unseen)' : ''}: its rollbacks are refused until resumed (${body.reason})`);
    res.json({ app, paused: { reason: body.reason, by: body.by, since: iso(since) }, ...(unseen ? { unseen: true } : {}) });
  };

  /** POST /v1/apps/{app}/resume {by, reason?}: rollbacks go through again. */
  const resume: RequestHandler = async (req, res) => {
    const app = String(req.params.app);
    const body = parseBody(resumeBody, req.body);
    const ended = await resumeByHand(store, app, { by: body.by, reason: body.reason ?? null, via: 'api' }, clock.now());
    req.log.warn({ app, by: body.by, reason: body.reason, wasPaused: ended !== undefined }, ended ? 'app resumed: rollbacks go through again' : 'resume asked for an app that was not paused');
    res.json({ app, paused: null, resumed_by: body.by, was_paused: pauseView(ended) });
  };

  return { list, get, pause, resume };
}

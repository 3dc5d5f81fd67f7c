import type { RequestHandler } from 'express';
import { routeFor } from '../../config/config';
import { healthyLedger, knownFailedReports } from '../../domain/rollback-policy';
import { AppError } from '../../errors';
import { listEvents } from '../../store/events.repository';
import { listAppNames, listReports } from '../../store/reports.repository';
import type { AppDeps } from '../app-deps';

const RECENT = 20;
const MAX_APPS = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

/** GET /v1/apps and GET /v1/apps/{app}: what the policy knows about each app. */
export function createAppsController({ config, store }: AppDeps) {
  const summarize = async (app: string) => {
    const reports = await listReports(store.db, app);
    const [lastRollback] = await listEvents(store.db, { app, limit: 1 });
    const last = reports.find((r) => r.source === 'health_report');
    return {
      app,
      last_report: last ? { status: last.status, revision: last.revision, reported_at: iso(last.reportedAt) } : null,
      healthy_revisions: healthyLedger(reports).length,
      known_failed_revisions: knownFailedReports(reports).length,
      last_rollback: lastRollback ? { id: lastRollback.id, status: lastRollback.status, outcome: lastRollback.outcome, created_at: iso(lastRollback.createdAt) } : null,
    };
  };

  const list: RequestHandler = async (_req, res) => {
    const names = await listAppNames(store.db, MAX_APPS);
    res.json({ apps: await Promise.all(names.map(summarize)) });
  };

  const get: RequestHandler = async (req, res) => {
    const app = String(req.params.app);
    const reports = await listReports(store.db, app);
    const rollbacks = await listEvents(store.db, { app, limit: RECENT });
    if (reports.length === 0 && rollbacks.length === 0) throw new AppError('NOT_FOUND', `no reports or rollbacks for app ${JSON.stringify(app)}`);
    const failed = knownFailedReports(reports);
    const route = routeFor(config, app);
    res.json({
      app,
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
      // Degraded reports that did not roll back for a reason of their own (a long-healthy revision).
      degraded_without_rollback: reports
        .filter((r) => r.status === 'Degraded' && r.note)
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

  return { list, get };
}

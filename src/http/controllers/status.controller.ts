import type { RequestHandler } from 'express';
import { listNeedsAPerson } from '../../store/attention.repository';
import { countEventsByStatus, countOpenOutcomes, countPendingNotifications } from '../../store/queue-figures.repository';
import { VERSION } from '../../version';
import type { AppDeps } from '../app-deps';

/** GET /v1/status: what this process is and how it is doing, for the person who just set it up. */
export function createStatusController({ config, store, wiring }: AppDeps): RequestHandler {
  return async (_req, res) => {
    const github = wiring?.current();
    const problem = store.problem();
    const attention = await listNeedsAPerson(store.db, 5);
    res.json({
      version: VERSION,
      store: store.dialect,
      // While writes fail: what kind of failure, its first error, since when and how many.
      store_problem: problem
        ? { kind: problem.kind, label: problem.label, first_error: problem.first, since: new Date(problem.since).toISOString(), last_at: new Date(problem.lastAt).toISOString(), count: problem.count }
        : null,
      dry_run: config.dryRun,
      repository: `${config.github.owner}/${config.github.repo}`,
      routes: { loaded: config.routes.length, apps: config.routes.map((r) => r.app) },
      github: github
        ? { ok: github.ok, checked_at: new Date(github.checkedAt).toISOString(), checks: github.checks }
        : { ok: null, checks: [], note: config.dryRun && !config.github.token ? 'dry run without a token: GitHub is not checked' : 'not checked yet' },
      queue: {
        events: await countEventsByStatus(store.db),
        outcomes_open: await countOpenOutcomes(store.db),
        notifications_pending: await countPendingNotifications(store.db),
      },
      notifications: config.notify.url ? config.notify.format : 'off',
      // Rollbacks that ended where a person must act and nobody acknowledged (POST /v1/events/{id}/acknowledge).
      needs_a_person: { count: attention.count, newest: attention.newest.map((r) => ({ id: r.id, app: r.app, outcome: r.outcome, reason: r.reason, run_url: r.runUrl, since: new Date(r.since).toISOString() })) },
    });
  };
}

import type { RequestHandler } from 'express';
import { OPEN_OUTCOMES } from '../../store/events.table';
import { VERSION } from '../../version';
import type { AppDeps } from '../app-deps';

/** GET /v1/status: what this process is and how it is doing, for the person who just set it up. */
export function createStatusController({ config, store, wiring }: AppDeps): RequestHandler {
  return async (_req, res) => {
    const byStatus = await store.db.selectFrom('events').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('status').execute();
    const open = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('outcome', 'in', OPEN_OUTCOMES).executeTakeFirst();
    const pending = await store.db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('status', 'in', ['pending', 'sending']).executeTakeFirst();
    const github = wiring?.current();
    res.json({
      version: VERSION,
      store: store.dialect,
      dry_run: config.dryRun,
      repository: `${config.github.owner}/${config.github.repo}`,
      routes: { loaded: config.routes.length, apps: config.routes.map((r) => r.app) },
      github: github
        ? { ok: github.ok, checked_at: new Date(github.checkedAt).toISOString(), checks: github.checks }
        : { ok: null, checks: [], note: config.dryRun && !config.github.token ? 'dry run without a token: GitHub is not checked' : 'not checked yet' },
      queue: {
        events: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
        outcomes_open: Number(open?.n ?? 0),
        notifications_pending: Number(pending?.n ?? 0),
      },
      notifications: config.notify.url ? config.notify.format : 'off',
    });
  };
}

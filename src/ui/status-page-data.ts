import { createHash } from 'node:crypto';
import { routeFor, type Config } from '../config/config';
import type { Route } from '../config/routes';
import { NEEDS_A_PERSON, type DeliveryAttempt, type OutcomeHistoryEntry, type RollbackEvent } from '../domain/rollback-event';
import { healthyLedger, knownFailedReports, type RevisionReport } from '../domain/rollback-policy';
import { withDispatchId } from '../domain/dispatch-body';
import type { WiringCheck } from '../github/wiring-check';
import type { AppDeps } from '../http/app-deps';
import { listActions, type RecordedAction } from '../store/admin-actions.repository';
import type { Store } from '../store/database';
import type { StoreProblem } from '../store/store-error';
import { findEvent, findEventsByIds, listEvents, listNewestFailed } from '../store/events.repository';
import { findReport, listOutcomeHistory } from '../store/outcome-follows.repository';
import { countFailedNotifications, listFailedNotifications, type FailedNotification } from '../store/notifications.repository';
import { findPause, findPauses, type AppPause } from '../store/pauses.repository';
import { unfinishedFigures } from '../store/queue-figures.repository';
import { findAcknowledgement, listNeedsAPerson, type NeedsAPerson, type RecordedAcknowledgement } from '../store/attention.repository';
import { countAppNames, listAppHeads, listAppNames } from '../store/apps.repository';
import { findReportsByIds, listReports } from '../store/reports.repository';
import { pageOf } from './format';

/** What the three pages show, read from the store; the views (src/ui/views) only render it. */

export const APPS_PER_PAGE = 50;
export const TIMELINE_PER_PAGE = 50;
/** The timeline pages back at most this far (newest reports, rollbacks and actions of each kind). */
const TIMELINE_PAGES = 20;
/** Undelivered events at or over this many, or older than PILING_MS, raise the overview's banner. */
export const PILING_COUNT = 20;
export const PILING_MS = 5 * 60_000;
/** The undelivered banner lists this many failed events (and counts them all). */
export const FAILED_SHOWN = 5;
/** The "needs a person" banner lists this many rollbacks (and counts them all). */
export const NEEDS_A_PERSON_SHOWN = 5;

/** The last GitHub wiring check, as the app gets it (undefined in dry run without a token). */
type Wiring = AppDeps['wiring'];

export interface AppRow {
  app: string;
  lastReport: RevisionReport | undefined;
  paused: AppPause | undefined;
  lastRollback: RollbackEvent | undefined;
  /** The newest Degraded report that rolled nothing back (and why), when it is newer than the last rollback. */
  refusal: RevisionReport | undefined;
  rollbacksInWindow: number;
  route: Route;
}

export interface Banners {
  /** The failing checks of the last GitHub wiring check, when it failed. */
  wiring: WiringCheck[] | undefined;
  /** Undelivered events, and failed ones with the newest few (each opens its rollback page, where it is replayed). */
  undelivered: { count: number; oldestAt: number | undefined; failed: number; newestFailed: RollbackEvent[] } | undefined;
  /** Messages the notification receiver refused for good: how many, and the newest few. */
  refusedNotifications: { count: number; newest: FailedNotification[] } | undefined;
  /** The store's writes fail (disk full, read-only, busy, connection lost): since when, its first error. */
  store: StoreProblem | undefined;
  /** Rollbacks that ended restore_failed, run_missing or unverified, until someone acknowledges each. */
  needsAPerson: { count: number; newest: NeedsAPerson[] } | undefined;
}

export interface OverviewData {
  now: number;
  apps: AppRow[];
  page: number;
  pages: number;
  totalApps: number;
  banners: Banners;
}

/**
 * The overview's data, all read on every render: the app count from the apps table, the banner's counts
 * from partial indexes (undelivered and failed events, rollbacks that need a person), the page's rows in a
 * few set-based reads (loadAppRows). What
 * it costs does not grow with the history (the growth bench measures it at 1,000,000 events).
 */
export function createOverviewLoader(config: Config, store: Store, wiring: Wiring | undefined) {
  return async function loadOverview(requestedPage: unknown, now: number): Promise<OverviewData> {
    const [totalApps, { undelivered, failed, oldestUndeliveredAt: oldestAt }, refusedNotifications, needsAPerson] = await Promise.all([
      countAppNames(store.db),
      unfinishedFigures(store.db),
      countFailedNotifications(store.db),
      listNeedsAPerson(store.db, NEEDS_A_PERSON_SHOWN),
    ]);
    const { page, pages, offset } = pageOf(requestedPage, totalApps, APPS_PER_PAGE);
    const names = await listAppNames(store.db, APPS_PER_PAGE, offset);
    const apps = await loadAppRows(config, store, names, now);
    const check = wiring?.current();
    const piling = undelivered >= PILING_COUNT || (oldestAt !== undefined && now - oldestAt > PILING_MS) || failed > 0;
    const banners: Banners = {
      wiring: check && !check.ok ? check.checks.filter((c) => !c.ok) : undefined,
      undelivered: piling ? { count: undelivered, oldestAt, failed, newestFailed: failed > 0 ? await listNewestFailed(store.db, FAILED_SHOWN) : [] } : undefined,
      refusedNotifications: refusedNotifications > 0 ? { count: refusedNotifications, newest: await listFailedNotifications(store.db, { limit: 3 }) } : undefined,
      store: store.problem(),
      needsAPerson: needsAPerson.count > 0 ? needsAPerson : undefined,
    };
    return { now, apps, page, pages, totalApps, banners };
  };
}

/**
 * A page of the overview's rows in four statements, whatever the page's size: where each app's newest
 * event, health report and refusal are and its rollbacks in its own loop-guard window (one statement),
 * then those rows and the pauses by key. At 10,000 apps and 1,000,000 events the 250 small reads this
 * replaced cost PostgreSQL 72 ms a page (p50).
 */
async function loadAppRows(config: Config, store: Store, names: readonly string[], now: number): Promise<AppRow[]> {
  const routes = new Map(names.map((app) => [app, routeFor(config, app)]));
  const heads = await listAppHeads(
    store.db,
    names.map((app) => ({ app, since: now - routes.get(app)!.windowMinutes * 60_000 })),
  );
  const [events, reports, pauses] = await Promise.all([
    findEventsByIds(store.db, heads.flatMap((h) => (h.lastEventId ? [h.lastEventId] : []))),
    findReportsByIds(store.db, heads.flatMap((h) => [h.lastReportId, h.lastRefusalId].filter((id): id is string => id !== null))),
    findPauses(store.db, names),
  ]);
  const eventById = new Map(events.map((e) => [e.id, e]));
  const reportById = new Map(reports.map((r) => [r.id, r]));
  const headOf = new Map(heads.map((h) => [h.app, h]));
  return names.map((app) => {
    const head = headOf.get(app);
    const lastRollback = head?.lastEventId ? eventById.get(head.lastEventId) : undefined;
    const refused = head?.lastRefusalId ? reportById.get(head.lastRefusalId) : undefined;
    return {
      app,
      route: routes.get(app)!,
      lastReport: head?.lastReportId ? reportById.get(head.lastReportId) : undefined,
      paused: pauses.find((p) => p.app === app),
      lastRollback,
      refusal: refused && (!lastRollback || refused.reportedAt >= lastRollback.createdAt) ? refused : undefined,
      rollbacksInWindow: head?.rollbacksInWindow ?? 0,
    };
  });
}

/** The overview's relative times ("12 s ago") may lag by this much when nothing else changed. */
export const LIVE_REFRESH_MS = 60_000;

/**
 * The live part's entity tag: it changes when the store may have changed (Store.changeStamp, read before
 * the data), when the GitHub wiring check ran again, every LIVE_REFRESH_MS (relative times, the banner's
 * age) and with the page asked for. An open tab with nothing happening then costs one stamp read a second,
 * and a render every LIVE_REFRESH_MS.
 */
export async function overviewTag(store: Store, wiring: Wiring | undefined, requestedPage: unknown, now: number): Promise<string> {
  const check = wiring?.current();
  const problem = store.problem();
  const parts = [await store.changeStamp(), problem ? `${problem.kind}:${problem.count}` : '-', check ? `${check.checkedAt}:${check.ok}` : '-', typeof requestedPage === 'string' ? requestedPage : '', Math.floor(now / LIVE_REFRESH_MS)];
  return `"${createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 27)}"`;
}

export type TimelineEntry =
  | { kind: 'report'; at: number; key: string; report: RevisionReport }
  | { kind: 'rollback'; at: number; key: string; event: RollbackEvent }
  | { kind: 'action'; at: number; key: string; action: RecordedAction };

export interface AppData {
  now: number;
  app: string;
  route: Route;
  paused: AppPause | undefined;
  ledger: Array<{ report: RevisionReport; knownFailed: boolean }>;
  knownFailed: RevisionReport[];
  /** The app's messages the notification receiver refused for good, newest first. */
  refusedNotifications: FailedNotification[];
  timeline: TimelineEntry[];
  page: number;
  pages: number;
}

/** Undefined when the store knows nothing of `app`. */
export async function loadApp(config: Config, store: Store, app: string, requestedPage: unknown, now: number): Promise<AppData | undefined> {
  const reports = await listReports(store.db, app);
  const paused = await findPause(store.db, app);
  // Enough of each kind for the deepest page; merged newest first.
  const depth = TIMELINE_PER_PAGE * TIMELINE_PAGES + 1;
  const events = await listEvents(store.db, { app, limit: depth });
  const actions = await listActions(store.db, app, depth);
  if (reports.length === 0 && events.length === 0 && actions.length === 0 && !paused) return undefined;
  const failed = knownFailedReports(reports);
  const timeline: TimelineEntry[] = [
    ...reports.map((report) => ({ kind: 'report' as const, at: report.reportedAt, key: report.id, report })),
    ...events.map((event) => ({ kind: 'rollback' as const, at: event.createdAt, key: event.id, event })),
    ...actions.map((action) => ({ kind: 'action' as const, at: action.at, key: action.id, action })),
  ].sort((a, b) => b.at - a.at || (a.key < b.key ? 1 : a.key > b.key ? -1 : 0));
  const { page, pages, offset } = pageOf(requestedPage, Math.min(timeline.length, TIMELINE_PER_PAGE * TIMELINE_PAGES), TIMELINE_PER_PAGE);
  return {
    now,
    app,
    route: routeFor(config, app),
    paused,
    ledger: healthyLedger(reports).map((report) => ({ report, knownFailed: failed.some((f) => f.revision === report.revision) })),
    knownFailed: failed,
    refusedNotifications: await listFailedNotifications(store.db, { app, limit: 20 }),
    timeline: timeline.slice(offset, offset + TIMELINE_PER_PAGE),
    page,
    pages,
  };
}

export interface RollbackData {
  now: number;
  event: RollbackEvent;
  attempts: DeliveryAttempt[];
  history: OutcomeHistoryEntry[];
  verifiedBy: { id: string; revision: string; reportedAt: number } | undefined;
  /** The body sent (or that would be sent) to GitHub, indented. */
  dispatch: string;
  replayable: boolean;
  dryRun: boolean;
  /** A dead end (restore_failed, run_missing, unverified): whether and by whom it was acknowledged. */
  needsAPerson: boolean;
  acknowledged: RecordedAcknowledgement | undefined;
}

export async function loadRollback(config: Config, store: Store, id: string, now: number): Promise<RollbackData | undefined> {
  const found = await findEvent(store.db, id);
  if (!found) return undefined;
  const { event, attempts, dispatchId } = found;
  return {
    now,
    event,
    attempts,
    history: await listOutcomeHistory(store.db, event.id),
    verifiedBy: event.verifiedReportId ? await findReport(store.db, event.verifiedReportId) : undefined,
    dispatch: JSON.stringify(JSON.parse(dispatchId ? withDispatchId(event.dispatchBody, dispatchId) : event.dispatchBody), null, 2),
    replayable: ['delivered', 'failed', 'dry_run'].includes(event.status),
    dryRun: routeFor(config, event.app).dryRun,
    needsAPerson: event.outcome !== null && (NEEDS_A_PERSON as readonly string[]).includes(event.outcome),
    acknowledged: await findAcknowledgement(store.db, event.id),
  };
}

import { routeFor, type Config } from '../config/config';
import { AppError } from '../errors';
import { NEEDS_A_PERSON, type Outcome, type RollbackEvent } from '../domain/rollback-event';
import { recordAction } from '../store/admin-actions.repository';
import type { Store } from '../store/database';
import { currentDelivery, DeliveryInProgressError, openDelivery } from '../store/deliveries.repository';
import { findEvent, isUniqueViolation, notFollowedYet, summarizeDelivery, summarizeFollow } from '../store/events.repository';
import { pauseApp, resumeApp, type AppPause } from '../store/pauses.repository';
import { appExists } from '../store/apps.repository';
import { APP_NAME_RULE, isAppName } from '../domain/webhook-message';

/** Who acts and why, and from where (the status page or the JSON API). */
export interface Actor {
  by: string;
  reason: string | null;
  via: 'ui' | 'api';
}

/**
 * What an operator does by hand: each change and its record (who, why, when, from where) are written in
 * one transaction, so the app's page never shows a change without its author. The JSON API and the
 * status page both call these.
 */
/**
 * Pauses `app`, which must be named as Argo CD names apps (INVALID_PAYLOAD otherwise) and be one the
 * service has seen (a report, a rollback, a pause), unless `allowUnseen` says the caller means an app
 * that has not sent anything yet (NOT_FOUND otherwise): a typo must not create an app. Returns whether
 * the app was unseen.
 */
export async function pauseByHand(store: Store, app: string, actor: Actor & { reason: string; allowUnseen?: boolean }, now: number): Promise<AppPause & { unseen: boolean }> {
  if (!isAppName(app)) throw new AppError('INVALID_PAYLOAD', `app: ${APP_NAME_RULE}`);
  const pause = { app, reason: actor.reason, by: actor.by, since: now };
  let unseen = false;
  await store.transaction(async (trx) => {
    unseen = !(await appExists(trx, app));
    if (unseen && !actor.allowUnseen) {
      throw new AppError('NOT_FOUND', `no report, rollback or pause of app ${JSON.stringify(app)} yet: to pause an app before it sends anything, say so with allow_unseen: true`);
    }
    await pauseApp(trx, pause);
    await recordAction(trx, { app, eventId: null, action: 'pause', by: actor.by, reason: actor.reason, via: actor.via, at: now });
  });
  return { ...pause, unseen };
}

/** Returns the pause that ended, or undefined when the app was not paused (recorded either way). */
export async function resumeByHand(store: Store, app: string, actor: Actor, now: number): Promise<AppPause | undefined> {
  if (!isAppName(app)) throw new AppError('INVALID_PAYLOAD', `app: ${APP_NAME_RULE}`);
  return store.transaction(async (trx) => {
    const ended = await resumeApp(trx, app);
    await recordAction(trx, { app, eventId: null, action: 'resume', by: actor.by, reason: actor.reason, via: actor.via, at: now });
    return ended;
  });
}

/**
 * Starts a new delivery of a delivered, failed or dry-run event, with a fresh attempt count (or, when its
 * app's route is dry run, records it again without sending); once delivered it gets a new follow-up with
 * fresh counts. The earlier delivery and follow-up stay in the history. NOT_FOUND for an unknown id,
 * INVALID_STATE for a suppressed event or one whose delivery is still in progress.
 */
/** `event`: the event as the replay left it (a worker may take it up before the caller answers). */
export async function replayByHand(config: Config, store: Store, id: string, actor: Actor, now: number): Promise<{ app: string; previous: string; event: RollbackEvent }> {
  const existing = await findEvent(store.db, id);
  if (!existing) throw new AppError('NOT_FOUND', 'no such event');
  const { app } = existing.event;
  const refused = (previous: string) =>
    new AppError('INVALID_STATE', `the event is ${previous}; only delivered, failed or dry_run events can be replayed (a suppressed one is a new request once the guard allows it)`);
  // The app's route may say dry_run (DRY_RUN=true implies it): then a replay records, never sends.
  const state = routeFor(config, app).dryRun ? 'dry_run' : 'queued';
  try {
    const previous = await store.transaction(async (trx) => {
      const current = await currentDelivery(trx, id);
      if (!current) throw refused('suppressed');
      const delivery = await openDelivery(trx, id, { state, now });
      await recordAction(trx, { app, eventId: id, action: 'replay', by: actor.by, reason: actor.reason, via: actor.via, at: now });
      await summarizeDelivery(trx, store.dialect, delivery, now);
      // The event's outcome starts afresh: the new delivery is followed once delivered. Earlier attempts
      // stay in the outcome history and the delivery attempts.
      await summarizeFollow(trx, store.dialect, notFollowedYet(id), now);
      return { previous: current.state, event: (await findEvent(trx, id))!.event };
    });
    return { app, ...previous };
  } catch (error) {
    // Its delivery is still open, or another replica opened one at the same moment (the same seq).
    if (error instanceof DeliveryInProgressError || isUniqueViolation(error)) throw refused((await findEvent(store.db, id))?.event.status ?? existing.event.status);
    throw error;
  }
}

/**
 * Someone has seen a rollback that needs a person (restore_failed, run_missing, unverified) and takes it
 * from there: recorded with who and why, it leaves the overview's banner. NOT_FOUND for an unknown id,
 * INVALID_STATE for any other outcome. Acknowledging again records again (the newest counts).
 */
export async function acknowledgeByHand(store: Store, id: string, actor: Actor & { reason: string }, now: number): Promise<{ app: string; outcome: Outcome }> {
  const existing = await findEvent(store.db, id);
  if (!existing) throw new AppError('NOT_FOUND', 'no such event');
  const { app, outcome } = existing.event;
  if (outcome === null || !(NEEDS_A_PERSON as readonly Outcome[]).includes(outcome)) {
    throw new AppError('INVALID_STATE', `the rollback's outcome is ${outcome ?? 'not known yet'}; only a rollback that ended ${NEEDS_A_PERSON.join(', ')} is acknowledged`);
  }
  await store.transaction(async (trx) => {
    await recordAction(trx, { app, eventId: id, action: 'acknowledge', by: actor.by, reason: actor.reason, via: actor.via, at: now });
  });
  return { app, outcome };
}

import { routeFor, type Config } from '../config/config';
import { AppError } from '../errors';
import { recordAction } from '../store/admin-actions.repository';
import type { Store } from '../store/database';
import { findEvent, replayEvent } from '../store/events.repository';
import { pauseApp, resumeApp, type AppPause } from '../store/pauses.repository';

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
export async function pauseByHand(store: Store, app: string, actor: Actor & { reason: string }, now: number): Promise<AppPause> {
  const pause = { app, reason: actor.reason, by: actor.by, since: now };
  await store.transaction(async (trx) => {
    await pauseApp(trx, pause);
    await recordAction(trx, { app, eventId: null, action: 'pause', by: actor.by, reason: actor.reason, via: actor.via, at: now });
  });
  return pause;
}

/** Returns the pause that ended, or undefined when the app was not paused (recorded either way). */
export async function resumeByHand(store: Store, app: string, actor: Actor, now: number): Promise<AppPause | undefined> {
  return store.transaction(async (trx) => {
    const ended = await resumeApp(trx, app);
    await recordAction(trx, { app, eventId: null, action: 'resume', by: actor.by, reason: actor.reason, via: actor.via, at: now });
    return ended;
  });
}

/**
 * Puts a delivered, failed or dry-run event back in the queue (or, when its app's route is dry run,
 * records it again without sending). NOT_FOUND for an unknown id, INVALID_STATE for any other status.
 */
export async function replayByHand(config: Config, store: Store, id: string, actor: Actor, now: number): Promise<{ app: string; previous: string }> {
  const existing = await findEvent(store.db, id);
  if (!existing) throw new AppError('NOT_FOUND', 'no such event');
  const { app } = existing.event;
  // The app's route may say dry_run (DRY_RUN=true implies it): then a replay records, never sends.
  const status = routeFor(config, app).dryRun ? 'dry_run' : 'queued';
  const result = await store.transaction(async (trx) => {
    const replayed = await replayEvent(trx, id, status, now);
    if (replayed?.replayed) await recordAction(trx, { app, eventId: id, action: 'replay', by: actor.by, reason: actor.reason, via: actor.via, at: now });
    return replayed;
  });
  if (!result) throw new AppError('NOT_FOUND', 'no such event');
  if (!result.replayed) {
    throw new AppError('INVALID_STATE', `the event is ${result.previous}; only delivered, failed or dry_run events can be replayed (a suppressed one is a new request once the guard allows it)`);
  }
  return { app, previous: result.previous };
}

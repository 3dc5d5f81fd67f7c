import type { Migration } from 'kysely';
import * as createEvents from './2026-11-29T09-00-create-events';
import * as rollbackPolicy from './2026-11-29T10-00-rollback-policy';
import * as dispatchSlots from './2026-11-29T11-00-dispatch-slots';
import * as outcomes from './2026-11-29T12-00-outcomes';
import * as appPauses from './2026-11-29T13-00-app-pauses';
import * as fastPaths from './2026-11-30T09-00-fast-paths';
import * as statusPage from './2026-11-30T12-00-status-page';
import * as workTables from './2026-12-05T09-00-work-tables';
import * as acceptPath from './2026-12-05T12-00-accept-path';
import * as revisionStates from './2026-12-06T02-00-revision-states';
import * as restorePlans from './2026-12-06T08-00-restore-plans';
import * as retention from './2026-12-06T09-00-retention';
import * as apps from './2026-12-06T20-00-apps';
import * as uiSessions from './2026-12-06T21-00-ui-sessions';
import * as refusals from './2026-12-06T22-00-refusals';
import * as needsAPerson from './2026-12-06T23-00-needs-a-person';
import * as toldOnce from './2026-12-07T10-00-told-once';
import * as knownFailed from './2026-12-07T11-00-known-failed';
import * as storeProbe from './2026-12-07T12-00-store-probe';

/** Every migration, keyed by its dated name; Kysely runs them in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-29T09-00-create-events': createEvents,
  '2026-11-29T10-00-rollback-policy': rollbackPolicy,
  '2026-11-29T11-00-dispatch-slots': dispatchSlots,
  '2026-11-29T12-00-outcomes': outcomes,
  '2026-11-29T13-00-app-pauses': appPauses,
  '2026-11-30T09-00-fast-paths': fastPaths,
  '2026-11-30T12-00-status-page': statusPage,
  '2026-12-05T09-00-work-tables': workTables,
  '2026-12-05T12-00-accept-path': acceptPath,
  '2026-12-06T02-00-revision-states': revisionStates,
  '2026-12-06T08-00-restore-plans': restorePlans,
  '2026-12-06T09-00-retention': retention,
  '2026-12-06T20-00-apps': apps,
  '2026-12-06T21-00-ui-sessions': uiSessions,
  '2026-12-06T22-00-refusals': refusals,
  '2026-12-06T23-00-needs-a-person': needsAPerson,
  '2026-12-07T10-00-told-once': toldOnce,
  '2026-12-07T11-00-known-failed': knownFailed,
  '2026-12-07T12-00-store-probe': storeProbe,
};

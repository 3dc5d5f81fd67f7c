import type { NewEvent } from '../../src/store/events.repository';

/** The failed revision the store suites' events default to. */
export const EVENT_FAILED_REVISION = '9f1c2e7d4b8a6f3e0d5c1b9a7e2f4d6c8b0a3e51';

/**
 * Events as the accept path stores them, each with the next id of its own sequence (one maker per
 * suite): `status`, then the app and the failed revision.
 */
export function eventMaker(): (status: NewEvent['status'], app?: string, failedRevision?: string) => NewEvent {
  let n = 0;
  return (status, app = 'podinfo-prod', failedRevision = EVENT_FAILED_REVISION) => ({
    id: `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
    app,
    failedRevision,
    healthyRevision: '3b7e0c5a9d2f41e8b6c7a1f0e9d8c7b6a5f4e3d2',
    target: { owner: 'acme', repo: 'gitops' },
    eventType: 'argo-degraded',
    dispatchBody: '{}',
    status,
    requestId: null,
    targetReason: 'from payload',
    suppressionReason: status === 'suppressed' ? 'loop guard' : null,
  });
}

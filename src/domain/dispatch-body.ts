import { InvalidPayloadError } from './invalid-payload';

/** The body of POST /repos/{owner}/{repo}/dispatches. */
export interface DispatchBody {
  event_type: string;
  client_payload: Record<string, unknown>;
}

/** GitHub's limits on a dispatch body (REST docs, "Create a repository dispatch event"). */
export const MAX_CLIENT_PAYLOAD_KEYS = 10;
export const MAX_CLIENT_PAYLOAD_CHARS = 65_535;
export const MAX_EVENT_TYPE_CHARS = 100;

/**
 * The key each dispatch adds to the stored body when it is sent: the delivery's own id, so the workflow
 * run it starts (its run-name carries it) is told apart from the runs of every earlier dispatch of the
 * same event (a replay, a re-dispatch after a cancel). Counted against GitHub's 10 keys at the door.
 */
export const DISPATCH_ID_KEY = 'dispatch_id';

/** The stored body as one dispatch sends it: with that dispatch's id in the client payload. */
export function withDispatchId(serializedBody: string, dispatchId: string): string {
  const body = JSON.parse(serializedBody) as DispatchBody;
  return JSON.stringify({ ...body, client_payload: { ...body.client_payload, [DISPATCH_ID_KEY]: dispatchId } });
}

export function buildDispatchBody(input: {
  eventType: string;
  app: string;
  failedRevision: string;
  healthyRevision: string;
  eventId: string;
  extras: Record<string, unknown>;
}): DispatchBody {
  return {
    event_type: input.eventType,
    client_payload: {
      ...input.extras,
      failed_revision: input.failedRevision,
      healthy_revision: input.healthyRevision,
      app: input.app,
      event_id: input.eventId,
    },
  };
}

/**
 * Checks GitHub's limits before anything is stored, so a body GitHub would refuse with 422 is refused
 * at the door instead of failing later. Returns the serialised body (it is stored as-is).
 */
export function serializeDispatchBody(body: DispatchBody): string {
  // dispatch_id joins when it is sent (withDispatchId).
  const keys = Object.keys({ ...body.client_payload, [DISPATCH_ID_KEY]: '' }).length;
  if (keys > MAX_CLIENT_PAYLOAD_KEYS) {
    throw new InvalidPayloadError(`client_payload: GitHub accepts at most ${MAX_CLIENT_PAYLOAD_KEYS} top-level keys; with failed_revision, healthy_revision, app, event_id and dispatch_id this one would have ${keys}`,
    );
  }
  if (body.event_type.length < 1 || body.event_type.length > MAX_EVENT_TYPE_CHARS) {
    throw new InvalidPayloadError(`event_type: expected 1 to ${MAX_EVENT_TYPE_CHARS} characters`);
  }
  // With the longest dispatch id (a UUID) in it, as it is sent.
  const payloadChars = JSON.stringify({ ...body.client_payload, [DISPATCH_ID_KEY]: '00000000-0000-0000-0000-000000000000' }).length;
  if (payloadChars >= MAX_CLIENT_PAYLOAD_CHARS) {
    throw new InvalidPayloadError(`client_payload: GitHub accepts less than 64 KB (${MAX_CLIENT_PAYLOAD_CHARS} characters); this one would be ${payloadChars}`,
    );
  }
  return JSON.stringify(body);
}

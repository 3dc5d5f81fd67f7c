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
  const keys = Object.keys(body.client_payload).length;
  if (keys > MAX_CLIENT_PAYLOAD_KEYS) {
    throw new InvalidPayloadError(`client_payload: GitHub accepts at most ${MAX_CLIENT_PAYLOAD_KEYS} top-level keys; with failed_revision, healthy_revision, app and event_id this one would have ${keys}`,
    );
  }
  if (body.event_type.length < 1 || body.event_type.length > MAX_EVENT_TYPE_CHARS) {
    throw new InvalidPayloadError(`event_type: expected 1 to ${MAX_EVENT_TYPE_CHARS} characters`);
  }
  const payloadChars = JSON.stringify(body.client_payload).length;
  if (payloadChars >= MAX_CLIENT_PAYLOAD_CHARS) {
    throw new InvalidPayloadError(`client_payload: GitHub accepts less than 64 KB (${MAX_CLIENT_PAYLOAD_CHARS} characters); this one would be ${payloadChars}`,
    );
  }
  return JSON.stringify(body);
}

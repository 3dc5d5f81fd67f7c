/**
 * The one error catalogue: every error the HTTP API answers with, its status and a default message.
 * The README's error table is checked against this object by tests/unit/error-catalogue.test.ts.
 */
export const ERROR_CATALOGUE = {
  UNAUTHORIZED: { status: 401, message: 'missing or wrong webhook token' },
  INVALID_JSON: { status: 400, message: 'the body is not valid JSON' },
  BAD_REQUEST: { status: 400, message: 'the request could not be read (its path, encoding or framing)' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'the body is larger than 64 KB' },
  TOO_MANY_HEADERS: { status: 431, message: 'more header lines than the service reads' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'send application/json (or no Content-Type)' },
  INVALID_PAYLOAD: { status: 422, message: 'the payload does not match the expected shape' },
  NO_HEALTHY_REVISION: { status: 422, message: 'no healthy revision to roll back to' },
  ROLLBACK_SUPPRESSED: { status: 409, message: 'rollback refused by the loop guard' },
  INVALID_STATE: { status: 409, message: 'the event is not in a state that allows this' },
  NOT_FOUND: { status: 404, message: 'not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'the webhook takes POST only' },
  RATE_LIMITED: { status: 429, message: 'too many requests' },
  STORE_UNAVAILABLE: { status: 503, message: 'the event store is unavailable; the request was not stored, retry later' },
  GITHUB_NOT_READY: { status: 503, message: 'the GitHub wiring check fails and READY_REQUIRES_GITHUB=true; see GET /v1/status' },
  STARTING: { status: 503, message: 'the service is starting (migrating its store); it takes webhooks in a moment' },
  SHUTTING_DOWN: { status: 503, message: 'the service is shutting down; another replica, or this one after its restart, takes the traffic' },
  INTERNAL: { status: 500, message: 'internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

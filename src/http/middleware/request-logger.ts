import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** What a request decided (a webhook's outcome, a refusal's code), said in the request's one log line. */
export interface Decision {
  level: 'info' | 'warn';
  message: string;
  fields: Record<string, unknown>;
}

function decisionOf(res: ServerResponse): Decision | undefined {
  return (res as Response).locals?.decision as Decision | undefined;
}

/**
 * Notes what this request decided: the request's log line, written when the answer is sent, carries
 * `fields`, says `message` and is at `level` (error for a 5xx whatever is noted). A later note adds its
 * fields and keeps the first message and the higher level: a controller's "rollback suppressed: …" stays
 * the line's message when the error handler adds the answer's code.
 */
export function noteDecision(res: Response, level: Decision['level'], fields: Record<string, unknown>, message: string): void {
  const earlier = decisionOf(res);
  res.locals.decision = earlier
    ? { level: earlier.level === 'warn' ? 'warn' : level, message: earlier.message, fields: { ...earlier.fields, ...fields } }
    : { level, message, fields };
}

/**
 * One log line per request with a request id (the caller's `x-request-id` when sane, else a new one,
 * echoed back), written when the answer is sent. Only method, path (no query string: tokens pasted into
 * URLs must not reach logs) and status are logged of the request, never headers or bodies; with them,
 * what the request decided (noteDecision): a webhook's outcome with its app, revisions and event id, a
 * refusal's code. A 5xx also gets the error handler's line with the error itself.
 */
export function createRequestLogger(logger: Logger) {
  return pinoHttp({
    logger: logger.child({ component: 'http' }),
    genReqId(req: IncomingMessage, res: ServerResponse) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, path: req.url.split('?', 1)[0] }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    customLogLevel(_req, res, error) {
      if (error || res.statusCode >= 500) return 'error';
      return decisionOf(res)?.level ?? 'info';
    },
    customSuccessObject: (_req, res, value: Record<string, unknown>) => {
      const decision = decisionOf(res);
      return decision ? { ...decision.fields, ...value } : value;
    },
    // The error handler already logged the error with its code; keep the access line short.
    customErrorMessage: (_req, res) => `request failed with ${res.statusCode}`,
    customSuccessMessage: (_req, res) => decisionOf(res)?.message ?? `request completed with ${res.statusCode}`,
    quietReqLogger: true,
  });
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * One log line per request with a request id (the caller's `x-request-id` when sane, else a new one,
 * echoed back). Only method, path (no query string: tokens pasted into URLs must not reach logs) and
 * status are logged; never headers or bodies.
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
      return 'info';
    },
    // The error handler already logged the error with its code; keep the access line short.
    customErrorMessage: (_req, res) => `request failed with ${res.statusCode}`,
    customSuccessMessage: (_req, res) => `request completed with ${res.statusCode}`,
    quietReqLogger: true,
  });
}

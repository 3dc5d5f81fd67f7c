import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../../errors';
import { InvalidPayloadError } from '../../domain/invalid-payload';
import { isStoreUnavailable, isUnconfirmedWrite, storeProblemOf } from '../../store/store-error';
import { WWW_AUTHENTICATE } from './auth';
import { noteDecision } from './request-logger';

/** Errors raised by body-parser/raw-body carry a `type`; map the ones a client can cause. */
function fromBodyParser(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null || !('type' in error)) return undefined;
  switch (error.type) {
    case 'entity.too.large':
      return new AppError('PAYLOAD_TOO_LARGE');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'entity.verify.failed':
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('INVALID_JSON', 'the body could not be read');
    default:
      return undefined;
  }
}

/**
 * Errors from Express, body-parser or http-errors that carry a 4xx status (a path whose percent-encoding
 * does not decode, a body whose Content-Encoding does not inflate): the client's fault, never a 500.
 */
function fromClientStatus(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = 'status' in error && typeof error.status === 'number' ? error.status : 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined;
  const zlib = 'code' in error && typeof error.code === 'string' && error.code.startsWith('Z_');
  if (zlib) return new AppError('BAD_REQUEST', 'the body could not be decoded (Content-Encoding)');
  if (status === undefined || status < 400 || status > 499) return undefined;
  if (status === 413) return new AppError('PAYLOAD_TOO_LARGE');
  if (status === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE');
  if (status === 404) return new AppError('NOT_FOUND');
  return new AppError('BAD_REQUEST');
}

/** Where a POST that missed was probably meant to go (a webhook URL with a typo, /webhook, /hooks/argocd). */
const WEBHOOK_PATHS_HINT = 'the webhook is POST / or POST /v1/webhooks/argocd (the URL in the Argo CD ConfigMap\'s service.webhook.gitops-rollback)';

export const notFound: RequestHandler = (req, _res, next) => {
  next(new AppError('NOT_FOUND', `no route for ${req.method} ${req.path}${req.method === 'POST' ? `: ${WEBHOOK_PATHS_HINT}` : ''}`));
};

/** Maps what a handler threw to the catalogue: domain errors by kind, the store's by whether it is unavailable. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof InvalidPayloadError) return new AppError('INVALID_PAYLOAD', error.message);
  const fromClient = fromBodyParser(error) ?? fromClientStatus(error);
  if (fromClient) return fromClient;
  if (isUnconfirmedWrite(error) && isStoreUnavailable(error)) {
    return new AppError('STORE_UNAVAILABLE', 'the event store took the request but the disk did not confirm it: it may be kept or lost; send it again (one that was kept is answered duplicate)', { cause: error });
  }
  return new AppError(isStoreUnavailable(error) ? 'STORE_UNAVAILABLE' : 'INTERNAL', undefined, { cause: error });
}

/** The one place that writes `{"error": {"code", "message"}}`. Unknown errors become 500 with no stack. */
export const errorHandler: ErrorRequestHandler = (error: unknown, req, res, _next) => {
  const appError = toAppError(error);
  // A store outage is said by name (disk full, read-only, busy, connection lost), with its first error.
  const problem = appError.code === 'STORE_UNAVAILABLE' ? storeProblemOf(appError.cause ?? error) : undefined;
  // When to try again: a busy store (a full pool, locks, a slow statement) clears in moments.
  if (appError.code === 'STORE_UNAVAILABLE') res.setHeader('Retry-After', problem?.kind === 'busy' ? '1' : '5');
  if (appError.code === 'STARTING') res.setHeader('Retry-After', '5');
  if (appError.status >= 500) {
    req.log.error({ err: appError.cause ?? error, code: appError.code, storeProblem: problem?.kind }, problem ? `${appError.message} (${problem.label})` : appError.message);
  } else {
    // Said in the request's one log line, after what the controller decided (if it decided anything).
    noteDecision(res, 'info', { code: appError.code }, appError.message);
  }
  if (appError.code === 'UNAUTHORIZED') res.setHeader('WWW-Authenticate', WWW_AUTHENTICATE);
  // The webhook metric's outcome: what the controller decided, else the error code.
  if (res.locals.outcome === undefined) res.locals.outcome = appError.code.toLowerCase();
  if (res.headersSent) return;
  res.status(appError.status).json({ error: { code: appError.code, message: appError.message } });
};

import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Paths pino censors wherever they appear. Request headers are also cut down by the request serializer
 * (src/http/middleware/request-logger.ts); this list is the second line of defence.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-webhook-token"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers.Authorization',
  'authorization',
  'token',
  '*.token',
  'githubToken',
  '*.githubToken',
  'webhookToken',
  'adminToken',
  'privateKey',
  '*.privateKey',
];

/** The one pino root; parts take `logger.child({ component })`. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'gitops-rollback-webhook' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

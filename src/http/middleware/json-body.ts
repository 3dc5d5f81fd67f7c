import express, { type RequestHandler } from 'express';
import { AppError } from '../../errors';
import { findForbiddenKey } from '../../domain/webhook-message';

export const BODY_LIMIT_BYTES = 64 * 1024;

/** 415 unless the Content-Type is absent (Argo CD sends none by default) or application/json with any parameters. */
export const requireJsonContentType: RequestHandler = (req, _res, next) => {
  const header = req.headers['content-type'];
  if (header === undefined || header.trim() === '') return next();
  const mediaType = header.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return next();
  next(new AppError('UNSUPPORTED_MEDIA_TYPE', `Content-Type ${JSON.stringify(mediaType)} is not accepted; send application/json`));
};

const readRawBody = express.raw({ type: () => true, limit: BODY_LIMIT_BYTES });

/**
 * Reads the body once (413 over the limit), parses it once (400 when it is not JSON), and refuses
 * keys such as __proto__ (422) so no later merge can pollute a prototype.
 */
export const parseJsonBody: RequestHandler = (req, res, next) => {
  readRawBody(req, res, (error?: unknown) => {
    if (error) return next(error);
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (raw.trim() === '') return next(new AppError('INVALID_JSON', 'the body is empty; expected a JSON object'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (parseError) {
      return next(new AppError('INVALID_JSON', `the body is not valid JSON: ${(parseError as Error).message}`));
    }
    const forbidden = findForbiddenKey(raw, parsed);
    if (forbidden) return next(new AppError('INVALID_PAYLOAD', `${forbidden}: this key name is not accepted`));
    req.body = parsed;
    next();
  });
};

import type { IncomingMessage } from 'node:http';
import express, { type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../../errors';
import { MAX_JSON_DEPTH, inspectJson } from '../../domain/webhook-message';
import { noteDecision } from './request-logger';

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

/** How much of a body over the limit is kept, to name the app in the log line. */
const HEAD_BYTES = 4096;
const APP_FIELD = /"app"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._/-]{0,252})"/;

/**
 * Keeps the first HEAD_BYTES of the body as it streams past (body-parser reads, or drains, the whole
 * body either way), so a 413 can still say which app it was: the shipped templates put "app" first.
 */
function keepHead(req: IncomingMessage): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= HEAD_BYTES) req.off('data', onData);
  };
  req.on('data', onData);
  return () => {
    req.off('data', onData);
    return Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString('utf8');
  };
}

function isTooLarge(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'type' in error && error.type === 'entity.too.large';
}

/**
 * Reads the body once (413 over the limit), parses it once (400 when it is not JSON), and refuses
 * keys such as __proto__ (422) so no later merge can pollute a prototype.
 */
/** Argo CD does not re-send a 4xx: this rollback is lost unless someone reads this line. */
function warnTooLarge(req: Request, res: Response, start: string): void {
  const app = APP_FIELD.exec(start)?.[1];
  noteDecision(
    res,
    'warn',
    { app, contentLength: req.headers['content-length'], limitBytes: BODY_LIMIT_BYTES },
    `webhook body over ${BODY_LIMIT_BYTES / 1024} KB refused${app ? ` for app ${app}` : ''}: send the shipped template's body, not the whole Application`,
  );
}

/** Reads at most HEAD_BYTES of the body (or what arrives within `waitMs`), then stops reading. */
function readHeadOnly(req: IncomingMessage, waitMs: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', done);
      req.pause();
      resolve(Buffer.concat(chunks).subarray(0, HEAD_BYTES).toString('utf8'));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= HEAD_BYTES) done();
    };
    const timer = setTimeout(done, waitMs);
    req.on('data', onData);
    req.on('end', done);
  });
}

export const parseJsonBody: RequestHandler = (req, res, next) => {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > BODY_LIMIT_BYTES) {
    // Answered from the declared length at once: the rest is never read, and the connection closes.
    void readHeadOnly(req, 1000).then((start) => {
      warnTooLarge(req, res, start);
      res.setHeader('Connection', 'close');
      next(new AppError('PAYLOAD_TOO_LARGE'));
    });
    return;
  }
  // Only a body of undeclared length can run over the limit while it is read (a declared one that does
  // not match ends in a 400): only then is its head kept for the log line.
  const head = Number.isFinite(declared) ? () => '' : keepHead(req);
  readRawBody(req, res, (error?: unknown) => {
    const start = head();
    if (isTooLarge(error)) warnTooLarge(req, res, start);
    if (error) return next(error);
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    if (raw.trim() === '') return next(new AppError('INVALID_JSON', 'the body is empty; expected a JSON object'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (parseError) {
      return next(new AppError('INVALID_JSON', `the body is not valid JSON: ${(parseError as Error).message}`));
    }
    const problem = inspectJson(parsed);
    if (problem && 'forbidden' in problem) return next(new AppError('INVALID_PAYLOAD', `${problem.forbidden}: this key name is not accepted`));
    if (problem && 'nul' in problem) return next(new AppError('INVALID_PAYLOAD', `${problem.nul}: contains a NUL character (\\u0000), which is not accepted`));
    if (problem) return next(new AppError('INVALID_PAYLOAD', `${problem.tooDeep}: nested deeper than ${MAX_JSON_DEPTH} levels`));
    req.body = parsed;
    next();
  });
};

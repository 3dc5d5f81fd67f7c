// The framework's own ceiling for npm run bench (issue 36): Express 5 as the service uses it, with
// nothing of the service. BENCH_EXPRESS=plain: express.json() and a 202. BENCH_EXPRESS=stack: the same
// behind helmet, pino-http writing one JSON line a request to LOG_FILE (as ours logs) and a bearer
// check of WEBHOOK_TOKEN in constant time; no store. GET answers 200 (the bench's readiness probe).
'use strict';
const { timingSafeEqual, createHash } = require('node:crypto');
const express = require('express');

const port = Number(process.env.PORT);
const app = express();
app.disable('x-powered-by');
if (process.env.BENCH_EXPRESS === 'stack') {
  const helmet = require('helmet');
  const pino = require('pino');
  const pinoHttp = require('pino-http');
  const expected = createHash('sha256').update(`Bearer ${process.env.WEBHOOK_TOKEN}`).digest();
  app.use(helmet());
  app.use(pinoHttp({ logger: pino(pino.destination({ dest: process.env.LOG_FILE, sync: false })) }));
  app.use((req, res, next) => {
    if (req.method === 'GET') return next();
    const given = createHash('sha256').update(String(req.headers.authorization)).digest();
    if (!timingSafeEqual(given, expected)) return res.status(401).json({ error: { code: 'UNAUTHORIZED' } });
    next();
  });
}
app.use(express.json({ limit: '64kb', type: () => true }));
app.get('/', (_req, res) => res.send('ok'));
app.post('/', (_req, res) => res.status(202).json({ status: 'queued' }));
app.listen(port, '127.0.0.1');

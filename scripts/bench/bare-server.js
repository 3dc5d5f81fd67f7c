// The floor for npm run bench: a bare node:http server that reads the body, parses the JSON once and
// answers 202. No routing, no auth, no storage: what Node itself costs per request on this machine.
'use strict';
const { createServer } = require('node:http');

const port = Number(process.env.PORT);
createServer((req, res) => {
  if (req.method === 'GET') {
    res.end('ok');
    return;
  }
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    let status = 202;
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      status = 400;
    }
    const body = JSON.stringify({ status: status === 202 ? 'queued' : 'bad_request' });
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1');

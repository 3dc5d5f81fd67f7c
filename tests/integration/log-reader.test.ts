import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isPrivateAddress, readJobLog } from '../../src/github/log-reader';

/**
 * Reading a job's log from the address GitHub redirected to, against a real local server: the address
 * is the only credential (no token, no user:password from the URL), a private address is followed only
 * when GitHub's own API host is private (GitHub Enterprise Server inside the cluster), one deadline
 * covers the whole read, and a log past the size cap is used as far as it was read.
 */
describe('reading a job log', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  let answer: (res: import('node:http').ServerResponse) => void;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      answer(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    seen.length = 0;
    answer = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('line one\nline two\n');
  });

  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['::1', true],
    ['fe80::1', true],
    ['fd00::1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:140.82.112.3', false],
    ['140.82.112.3', false],
    ['2606:50c0:8000::154', false],
    ['not-an-address', false],
  ])('when the address is %s, then private is %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('when GitHub is public and the log address is private, then nothing is requested and the refusal says why', async () => {
    const read = await readJobLog(`${base}/log`, { apiUrl: 'https://140.82.112.3', deadlineMs: 2000, maxBytes: 1024 });
    expect(read).toEqual({ ok: false, problem: `the job log address leads to a private address (127.0.0.1); not followed` });
    expect(seen).toEqual([]);
  });

  it('when GitHub itself is private (GHES), then a private log address is read, without the user and password written in it', async () => {
    const withCredentials = base.replace('http://', 'http://robot:s3cret-in-url@');
    const read = await readJobLog(`${withCredentials}/log?sig=abc`, { apiUrl: 'http://127.0.0.1:1', deadlineMs: 2000, maxBytes: 1024 });
    expect(read).toEqual({ ok: true, text: 'line one\nline two\n', cut: undefined });
    expect(seen.map((s) => [s.url, s.headers.authorization])).toEqual([['/log?sig=abc', undefined]]);
  });

  it('when the log host redirects again, then it is not followed', async () => {
    answer = (res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    expect(await readJobLog(`${base}/log`, { apiUrl: 'http://127.0.0.1:1', deadlineMs: 2000, maxBytes: 1024 })).toEqual({ ok: false, problem: 'the job log address answered 302' });
    expect(seen).toHaveLength(1);
  });

  it('when the headers never come, then the read ends at its deadline', async () => {
    answer = () => undefined;
    expect(await readJobLog(`${base}/log`, { apiUrl: 'http://127.0.0.1:1', deadlineMs: 300, maxBytes: 1024 })).toEqual({ ok: false, problem: 'log not readable in 0.3 s' });
  });

  it('when the body trickles past the deadline, then what arrived is kept and marked cut by time', async () => {
    answer = (res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).write('error: the first line names it\n');
      const timer = setInterval(() => res.write('still going\n'), 50);
      res.once('close', () => clearInterval(timer));
    };
    const read = await readJobLog(`${base}/log`, { apiUrl: 'http://127.0.0.1:1', deadlineMs: 400, maxBytes: 1024 * 1024 });
    expect(read).toMatchObject({ ok: true, cut: 'time', text: expect.stringMatching(/^error: the first line names it\n(still going\n)*/) });
  });

  it('when the log is longer than maxBytes, then exactly maxBytes are kept and marked cut by size', async () => {
    answer = (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`cause\n${'x'.repeat(100_000)}`);
    const read = await readJobLog(`${base}/log`, { apiUrl: 'http://127.0.0.1:1', deadlineMs: 2000, maxBytes: 1000 });
    expect(read).toMatchObject({ ok: true, cut: 'size' });
    expect(read.ok && [read.text.length, read.text.slice(0, 6)]).toEqual([1000, 'cause\n']);
  });

  it('when the address is not http(s), then it is refused', async () => {
    expect(await readJobLog('file:///etc/passwd', { apiUrl: 'http://127.0.0.1:1', deadlineMs: 2000, maxBytes: 1024 })).toEqual({ ok: false, problem: 'the job log address is not http(s) (file:)' });
  });
});

import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import { USER_AGENT } from '../version';

/**
 * Addresses a job log's redirect must not lead to (loopback, private, link-local, unique-local, CGNAT,
 * unspecified): the service sits inside a cluster, and a redirect is where a request would reach what
 * only the cluster should.
 */
const PRIVATE = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
] as const) {
  PRIVATE.addSubnet(network, prefix, 'ipv6');
}

/** True for a loopback, private, link-local or unique-local address (an IPv4-mapped IPv6 one as its IPv4). */
export function isPrivateAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  const family = isIP(address);
  if (family === 0) return false;
  return PRIVATE.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The addresses a host name (or address) stands for. */
async function addressesOf(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return [bare];
  return (await dnsLookup(bare, { all: true })).map((a) => a.address);
}

/** A read log (`cut` when it stopped early: at `maxBytes`, or at the deadline) or why there is none. */
export type LogRead = { ok: true; text: string; cut?: 'size' | 'time' } | { ok: false; problem: string };

/** "5 s", "2.5 s" */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

export interface LogReadOptions {
  /** GitHub's API: when its own host is a private address (GitHub Enterprise Server inside), so may the log's be. */
  apiUrl: string;
  /** The whole read, redirect, headers and body, ends by this deadline. */
  deadlineMs: number;
  maxBytes: number;
  signal?: AbortSignal;
  http?: AxiosInstance;
}

/**
 * A job's log from the signed address GitHub redirected to: never with the token, never with credentials
 * written into the address, never to a private address unless GitHub's own API host is one, within one
 * deadline, and at most `maxBytes`: what was read is kept (the line that names the cause usually comes
 * early), the rest is not read.
 */
export async function readJobLog(location: string, options: LogReadOptions): Promise<LogRead> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return { ok: false, problem: 'the job log address GitHub gave is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: `the job log address is not http(s) (${url.protocol})` };
  // Credentials in the address are never sent.
  url.username = '';
  url.password = '';
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), options.deadlineMs);
  const onOuterAbort = () => deadline.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const late = `log not readable in ${seconds(options.deadlineMs)}`;
  try {
    // An API host that does not resolve here counts as public: the stricter rule.
    const allowPrivate = (await addressesOf(new URL(options.apiUrl).hostname).catch(() => [])).some(isPrivateAddress);
    if (!allowPrivate) {
      const addresses = await addressesOf(url.hostname);
      if (addresses.some(isPrivateAddress)) return { ok: false, problem: `the job log address leads to a private address (${url.hostname}); not followed` };
    }
    const http = options.http ?? axios.create({ maxRedirects: 0, validateStatus: () => true });
    const response = await http.get<Readable>(url.toString(), {
      headers: { 'User-Agent': USER_AGENT },
      responseType: 'stream',
      signal: deadline.signal,
      // The name may resolve to another address by the time of the request: checked again then.
      ...(allowPrivate
        ? {}
        : {
            lookup: async (hostname: string) => {
              const [address] = await addressesOf(hostname);
              if (!address || isPrivateAddress(address)) throw new Error(`${hostname} resolves to a private address`);
              return [address, isIP(address)] as [string, number];
            },
          }),
    });
    if (response.status < 200 || response.status >= 300) {
      response.data.destroy();
      return { ok: false, problem: `the job log address answered ${response.status}` };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let cut: 'size' | 'time' | undefined;
    try {
      for await (const chunk of response.data) {
        const buffer = chunk as Buffer;
        const room = options.maxBytes - size;
        chunks.push(buffer.subarray(0, room));
        size += Math.min(room, buffer.length);
        if (buffer.length >= room) {
          cut = 'size';
          break;
        }
      }
    } catch (error) {
      // The deadline cut the body: what arrived is used.
      if (!deadline.signal.aborted) throw error;
      cut = 'time';
    } finally {
      response.data.destroy();
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (deadline.signal.aborted && text === '') return { ok: false, problem: late };
    return { ok: true, text, cut };
  } catch (error) {
    if (deadline.signal.aborted) return { ok: false, problem: late };
    return { ok: false, problem: `the job log could not be read: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

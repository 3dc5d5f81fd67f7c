import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { clientKeyOf } from './client-key';

export interface ConnectionCapOptions {
  /** HTTP_MAX_CONNECTIONS: connections held at once. */
  max: number;
  /** HTTP_MAX_CONNECTIONS_PER_CLIENT: connections one address may hold at once; 0 for no cap of its own. */
  maxPerClient: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Caps the connections the listener holds, without letting idle sockets lock anyone out:
 *
 * - one client address may hold at most `maxPerClient`; past it, its new connection is closed at once;
 * - at `max`, a new connection evicts the connection that has been idle longest (no request in flight:
 *   one that never sent a request, or a keep-alive one between requests), so a client with a request to
 *   send (a probe, Argo CD) gets in at once, however many idle sockets other addresses hold. Only when
 *   every held connection has a request in flight is the new one closed.
 *
 * Node's own `server.maxConnections` would drop the newcomer instead, which let 1,100 idle sockets from
 * 11 addresses keep every probe out. Each kind of cut is logged at most once a minute.
 */
export function capConnections(server: Server, options: ConnectionCapOptions): void {
  const { max, maxPerClient, logger } = options;
  const now = options.now ?? Date.now;
  const perClient = new Map<string, number>();
  /** Connections with no request in flight, longest idle first (a Map keeps insertion order). */
  const idle = new Map<Socket, true>();
  let held = 0;
  const saidAt = new Map<string, number>();
  const sayOnce = (key: string, fields: Record<string, unknown>, message: string) => {
    const at = now();
    if (at - (saidAt.get(key) ?? -Infinity) < 60_000) return;
    if (saidAt.size > 10_000) saidAt.clear();
    saidAt.set(key, at);
    logger.warn({ component: 'http', ...fields }, message);
  };

  server.on('connection', (socket: Socket) => {
    const address = clientKeyOf(socket.remoteAddress ?? 'unknown');
    const mine = perClient.get(address) ?? 0;
    if (maxPerClient > 0 && mine >= maxPerClient) {
      socket.destroy();
      sayOnce(`client ${address}`, { address, max: maxPerClient }, `${address} holds ${maxPerClient} connections (HTTP_MAX_CONNECTIONS_PER_CLIENT): its new connections are closed at once`);
      return;
    }
    if (held >= max) {
      const longestIdle = idle.keys().next();
      if (longestIdle.done) {
        socket.destroy();
        sayOnce('all busy', { max }, `${max} connections, each with a request in flight (HTTP_MAX_CONNECTIONS): a new connection was closed`);
        return;
      }
      idle.delete(longestIdle.value);
      longestIdle.value.destroy();
      sayOnce('evicted', { max }, `${max} connections held (HTTP_MAX_CONNECTIONS): the longest-idle one is closed for each new one`);
    }
    held += 1;
    perClient.set(address, mine + 1);
    idle.set(socket, true);
    socket.once('close', () => {
      held -= 1;
      idle.delete(socket);
      const left = (perClient.get(address) ?? 1) - 1;
      if (left > 0) perClient.set(address, left);
      else perClient.delete(address);
    });
  });

  // Requests in flight per connection (keep-alive and pipelining can overlap them).
  const inFlight = new WeakMap<Socket, number>();
  const started = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    idle.delete(socket);
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      // Idle again from now (at the end of the line), unless the connection is gone.
      if (left === 0 && !socket.destroyed) idle.set(socket, true);
    });
  };
  server.on('request', started);
  // A request with Expect: 100-continue comes as this event instead of 'request'.
  server.on('checkContinue', started);
}

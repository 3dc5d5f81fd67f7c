import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy to a database that a test can take down and bring back: down() drops every
 * connection and refuses new ones, as a restarting PostgreSQL does; stall() holds every byte without
 * closing anything, as a dead network does. Neither touches the real server (other suites use it).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async up(): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      this.forward(client, upstream);
      this.forward(upstream, client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /**
   * The network goes silent without closing anything (a half-open connection, a partition): bytes in
   * either direction are held, every connection stays open, new ones are accepted and hear nothing.
   */
  stall(): void {
    this.stalled = true;
  }

  /** The network comes back: what was held is delivered, in order, and forwarding goes on. */
  heal(): void {
    this.stalled = false;
    for (const flush of this.held.splice(0)) flush();
  }

  private stalled = false;
  private readonly held: Array<() => void> = [];

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (this.stalled) this.held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

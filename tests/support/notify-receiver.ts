import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RequestSignal } from './request-signal';

/**
 * A stand-in for a Slack-compatible incoming webhook: a real local HTTP server that records every
 * message it accepted. While `down` it answers 503 (as Slack does during an incident) and records
 * nothing, so a test can check that every message arrives once it is back.
 */
export class NotifyReceiver {
  readonly messages: Array<Record<string, unknown>> = [];
  refused = 0;
  down = false;
  /** Refuses a message for good with the status it returns (as Slack answers 400 invalid_payload); undefined takes it. */
  refuseWith: ((message: Record<string, unknown>) => number | undefined) | undefined;
  /** Answers a message 301 with this Location instead of taking it (a webhook that moved); undefined takes it. */
  redirectWith: ((message: Record<string, unknown>) => string | undefined) | undefined;
  url = '';
  private readonly server: Server;
  private readonly signal = new RequestSignal();

  constructor(private readonly path = '/services/T00000000/B00000000/stand-in-not-a-secret') {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${this.path}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The texts of the Slack-format messages, in arrival order. */
  texts(): string[] {
    return this.messages.map((m) => String(m.text));
  }

  /** Resolves once `predicate` holds, checked after every request; rejects after `timeoutMs`. */
  waitFor(predicate: (receiver: this) => boolean, timeoutMs = 10_000): Promise<void> {
    return this.signal.waitFor(() => predicate(this), timeoutMs, () => `notify receiver: condition not met (${this.messages.length} messages: ${JSON.stringify(this.texts())})`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== this.path) {
      res.writeHead(404).end('no_service');
    } else if (this.down) {
      this.refused += 1;
      res.writeHead(503).end('service_unavailable');
    } else {
      const message = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const refusal = this.refuseWith?.(message);
      const moved = this.redirectWith?.(message);
      if (moved !== undefined) {
        this.refused += 1;
        res.writeHead(301, { location: moved }).end();
      } else if (refusal !== undefined) {
        this.refused += 1;
        res.writeHead(refusal, { 'content-type': 'text/plain' }).end('invalid_payload');
      } else {
        this.messages.push(message);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      }
    }
    this.signal.changed();
  }
}

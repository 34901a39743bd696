/**
 * An in-process SMTP server (smtp-server) on 127.0.0.1 that records the Message-ID of every
 * message it accepts: the "effect sink" of the fault tests, where a duplicate
 * delivery shows up as the same Message-ID twice. It can be told to answer every message with a
 * 4xx/5xx reply, to hold each reply for a while, or to be down (connections refused, or taken
 * and dropped at once), and back. Every TCP connection to its port is counted, up or down.
 */
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

export interface AcceptedMail {
  /** The Message-ID header as sent, e.g. `<task id@tasks.local>`; '' when absent. */
  readonly messageId: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** Epoch ms when the sink answered 250. */
  readonly at: number;
  /** The message as received (headers and body). */
  readonly raw: string;
}

type Mode = { kind: 'accept' } | { kind: 'reply'; code: number; message: string };

export class SmtpSink {
  /** Every accepted message, in order (duplicates included). */
  readonly accepted: AcceptedMail[] = [];
  /** Messages answered with a 4xx/5xx by `reply()`. */
  refused = 0;
  /** Messages received in full whose reply is being held (see `holdReplies`). */
  holding = 0;
  /**
   * Epoch ms of every TCP connection the port took: SMTP sessions while up, and connections
   * dropped while down in `'reset'` mode (a refused connection cannot be seen).
   */
  readonly connections: number[] = [];
  private mode: Mode = { kind: 'accept' };
  private delayMs = 0;
  private server: SMTPServer | undefined;
  private dropper: { server: Server; sockets: Set<Socket> } | undefined;
  private port = 0;

  private constructor() {}

  /** Starts listening on a free loopback port. */
  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink();
    await sink.up();
    return sink;
  }

  /** `smtp://127.0.0.1:<port>` (plain SMTP, no TLS, no auth). */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** True while the server listens. */
  get listening(): boolean {
    return this.server !== undefined;
  }

  /** Accepted messages per Message-ID. */
  counts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const mail of this.accepted) out.set(mail.messageId, (out.get(mail.messageId) ?? 0) + 1);
    return out;
  }

  /** Accepts every message from now on (the default). */
  accept(): void {
    this.mode = { kind: 'accept' };
  }

  /** Answers every message with `code` (e.g. 451 transient, 550 permanent) from now on. */
  reply(code: number, message = code >= 500 ? 'Mailbox unavailable' : 'Try again later'): void {
    if (code < 400 || code > 599)
      throw new Error(`SMTP reply code must be 4xx or 5xx (got ${code})`);
    this.mode = { kind: 'reply', code, message };
  }

  /**
   * Holds each reply to DATA for `ms` (a slow receiver). A held message counts as accepted when
   * answered, even if its client is gone by then, as a receiver that queued it would deliver it.
   */
  holdReplies(ms: number): void {
    this.delayMs = ms;
  }

  /**
   * Stops the SMTP server and drops open connections. `'refuse'` (the default): nothing listens,
   * clients get "connection refused". `'reset'`: the port still takes TCP connections, counts
   * them in `connections` and closes each at once, before any greeting (a crashed server behind
   * a proxy), so a test can tell whether clients still try.
   */
  async down(mode: 'refuse' | 'reset' = 'refuse'): Promise<void> {
    const server = this.server;
    if (server) {
      this.server = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (mode === 'reset' && !this.dropper) {
      const sockets = new Set<Socket>();
      const dropper = createServer((socket) => {
        this.connections.push(Date.now());
        sockets.add(socket);
        socket.on('error', () => undefined);
        socket.on('close', () => sockets.delete(socket));
        socket.destroy();
      });
      await this.listen(dropper);
      this.dropper = { server: dropper, sockets };
    }
  }

  /** Listens again, on the same port once one was assigned. */
  async up(): Promise<void> {
    if (this.server) return;
    await this.stopDropper();
    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      // Else nodemailer upgrades to TLS and refuses the self-signed certificate.
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // On down(): answer 421 and drop pooled connections quickly.
      closeTimeout: 100,
      onConnect: (_session, callback) => {
        this.connections.push(Date.now());
        callback();
      },
      onData: (stream, session, callback) => {
        void this.receive(stream).then((raw) => {
          const answer = (): void => {
            if (this.mode.kind === 'reply') {
              this.refused += 1;
              const err: SMTPServerError = new Error(this.mode.message);
              err.responseCode = this.mode.code;
              callback(err);
              return;
            }
            const headers = parseHeaders(raw);
            this.accepted.push({
              messageId: headers.get('message-id') ?? '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: headers.get('subject') ?? '',
              at: Date.now(),
              raw,
            });
            callback();
          };
          if (this.delayMs > 0) {
            this.holding += 1;
            setTimeout(() => {
              this.holding -= 1;
              answer();
            }, this.delayMs);
          } else {
            answer();
          }
        }, callback);
      },
    });
    await this.listen(server);
    server.on('error', () => undefined); // client resets are not the sink's concern
    this.port = (server.server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops the server (and the dropper of `down('reset')`). Idempotent. */
  async close(): Promise<void> {
    await this.down();
    await this.stopDropper();
  }

  private listen(smtpOrNet: SMTPServer | Server): Promise<void> {
    // Both have net.Server's listen and error event; their typings differ only in overloads.
    const server = smtpOrNet as Server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  }

  private async stopDropper(): Promise<void> {
    const dropper = this.dropper;
    if (!dropper) return;
    this.dropper = undefined;
    for (const socket of dropper.sockets) socket.destroy();
    await new Promise<void>((resolve) => dropper.server.close(() => resolve()));
  }

  private receive(stream: Readable): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('error', reject);
      stream.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
  }
}

/** The header block of a message (up to the first empty line), unfolded, keys lower-cased. */
function parseHeaders(raw: string): Map<string, string> {
  const block = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const unfolded = block.replace(/\r?\n[ \t]+/g, ' ');
  const headers = new Map<string, string>();
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim());
  }
  return headers;
}

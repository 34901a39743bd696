/**
 * Delivery through nodemailer: pooled SMTP when SMTP_URL is set (wrapped in the circuit breaker
 * by main.ts), otherwise each message is written as a real `.eml` file (`<task id>.eml`) into
 * MAIL_DIR, for local runs without a mail server.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** HTML alternative of `text`, when there is one. */
  readonly html?: string;
  /** Used as the SMTP Message-ID, so receivers can deduplicate. */
  readonly messageId: string;
}

export interface SentMail {
  readonly messageId: string;
  readonly acceptedAt: Date;
}

export interface Mailer {
  /** Hands one message to the transport; rejects with the transport's error. */
  send(mail: OutgoingMail): Promise<SentMail>;
  /**
   * Throws a DeferError while sending is known to be pointless (an open breaker). No I/O: the
   * handler calls it before it spends a rate-limit slot.
   */
  assertAvailable(): void;
  /** Health shown in the worker's heartbeats (GET /health `worker_details`). */
  details(): Record<string, unknown>;
  /** Closes pooled connections. Idempotent. */
  close(): Promise<void>;
}

/** The SMTP settings of EmailWorkerConfig, as the transport needs them. */
export interface SmtpOptions {
  readonly url: string;
  readonly timeoutMs: number;
  /** TLS from the first byte; default: true for smtps:// URLs. */
  readonly secure?: boolean;
  readonly requireTls: boolean;
  readonly tlsRejectUnauthorized: boolean;
  /** Overrides a user in the URL. */
  readonly user?: string;
  /** Overrides a password in the URL. Never logged. */
  readonly password?: string;
  readonly maxConnections: number;
}

/**
 * nodemailer pool options for `options`. The URL is taken apart here, not passed as `url`:
 * nodemailer lets URL fields override explicit ones, and SMTP_SECURE must win over the scheme.
 */
export function smtpTransportOptions(options: SmtpOptions): SMTPPoolOptions {
  const url = new URL(options.url);
  const user = options.user ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = options.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  return {
    pool: true,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    ...(url.port ? { port: Number(url.port) } : {}),
    secure: options.secure ?? url.protocol === 'smtps:',
    requireTLS: options.requireTls,
    tls: { rejectUnauthorized: options.tlsRejectUnauthorized },
    ...(user !== undefined ? { auth: { user, pass } } : {}),
    maxConnections: options.maxConnections,
    // The runtime retries a failed send (with backoff, through the breaker); a pool that
    // requeued it on every dropped connection would hammer a server that is going away.
    maxRequeues: 0,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    // Messages are built from task payloads: never let them pull in local files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** Pooled SMTP delivery. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    options: SmtpOptions,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport(smtpTransportOptions(options));
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = (await this.transport.sendMail(messageOptions(this.from, mail))) as {
      messageId?: string;
    };
    return { messageId: info.messageId ?? mail.messageId, acceptedAt: new Date() };
  }

  assertAvailable(): void {}

  details(): Record<string, unknown> {
    return { transport: 'smtp' };
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

/** nodemailer's message options for one mail; both transports send the same message. */
function messageOptions(from: string, mail: OutgoingMail) {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    ...(mail.html !== undefined ? { html: mail.html } : {}),
    messageId: mail.messageId,
  };
}

/** Writes each message as `<Message-ID>.eml` into a folder. */
export class FileMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly mailDir: string,
    private readonly from: string,
  ) {
    this.transport = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'unix',
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = (await this.transport.sendMail(messageOptions(this.from, mail))) as {
      message: Buffer;
    };
    await mkdir(this.mailDir, { recursive: true });
    const name = `${mail.messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`;
    const target = join(this.mailDir, name);
    // Write then rename: a reader never sees half a message.
    await writeFile(`${target}.tmp`, info.message);
    await rename(`${target}.tmp`, target);
    return { messageId: mail.messageId, acceptedAt: new Date() };
  }

  assertAvailable(): void {}

  details(): Record<string, unknown> {
    return { transport: 'file' };
  }

  close(): Promise<void> {
    this.transport.close();
    return Promise.resolve();
  }
}

/**
 * Delivery through nodemailer: SMTP when SMTP_URL is set, otherwise each message is written as a
 * real `.eml` file (`<task id>.eml`) into MAIL_DIR, for local runs without a mail server.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';

export interface OutgoingMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  /** Used as the SMTP Message-ID, so receivers can deduplicate. */
  readonly messageId: string;
}

export interface SentMail {
  readonly messageId: string;
  readonly acceptedAt: Date;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SentMail>;
  close(): void;
}

export interface MailerOptions {
  readonly smtpUrl?: string;
  readonly timeoutMs: number;
  readonly mailDir: string;
  readonly from: string;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? new SmtpMailer(options, options.smtpUrl) : new FileMailer(options);
}

class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly options: MailerOptions,
    smtpUrl: string,
  ) {
    this.transport = nodemailer.createTransport({
      url: smtpUrl,
      pool: true,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
    });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = (await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      messageId: mail.messageId,
    })) as { messageId?: string };
    return { messageId: info.messageId ?? mail.messageId, acceptedAt: new Date() };
  }

  close(): void {
    this.transport.close();
  }
}

class FileMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly options: MailerOptions) {
    this.transport = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'unix',
    });
  }

  async send(mail: OutgoingMail): Promise<SentMail> {
    const info = (await this.transport.sendMail({
      from: this.options.from,
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      messageId: mail.messageId,
    })) as { message: Buffer };
    await mkdir(this.options.mailDir, { recursive: true });
    const name = `${mail.messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`;
    const target = join(this.options.mailDir, name);
    // Write then rename: a reader never sees half a message.
    await writeFile(`${target}.tmp`, info.message);
    await rename(`${target}.tmp`, target);
    return { messageId: mail.messageId, acceptedAt: new Date() };
  }

  close(): void {
    this.transport.close();
  }
}

/** SMTP 5xx replies are final (RFC 5321): retrying cannot help. */
export function isPermanentSmtpReply(err: unknown): boolean {
  const code = (err as { responseCode?: unknown } | undefined)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

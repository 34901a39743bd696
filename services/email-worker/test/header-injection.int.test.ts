/**
 * E-mail headers cannot be injected through the subject, the address or a template variable
 * (docs/SECURITY.md): whatever a client sends, the payload schema refuses it or the message
 * nodemailer writes has exactly the headers the platform sets, one of each, with the recipient
 * it was given. Property-based (fast-check), through the real schema, renderer and FileMailer.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmailSendPayload } from '@tasks/contracts';
import fc from 'fast-check';
import { FileMailer } from '../src/mailer';
import { renderEmail } from '../src/render-email';

jest.setTimeout(60_000);

/** Fragments that try to end a header line and start another. */
const INJECTIONS = [
  '\r\nBcc: victim@evil.example',
  '\nBcc: victim@evil.example',
  '\rBcc: victim@evil.example',
  '\r\n\r\n<html>body takeover</html>',
  '%0d%0aBcc: victim@evil.example',
  '\u2028Bcc: victim@evil.example',
  '\u0085Bcc: victim@evil.example',
  '\u000bBcc: victim@evil.example',
  '\u0000Bcc: victim@evil.example',
  '=?utf-8?Q?=0D=0ABcc:_victim@evil.example?=',
  '\r\n X-Folded: continuation',
];

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.constantFrom(...INJECTIONS),
      fc.string({ maxLength: 10 }),
    )
    .map(([a, b, c]) => a + b + c),
);

const hostileAddress = fc.oneof(
  fc.emailAddress(),
  fc.tuple(fc.emailAddress(), fc.constantFrom(...INJECTIONS)).map(([a, b]) => a + b),
  fc.tuple(fc.emailAddress(), fc.emailAddress()).map(([a, b]) => `${a}, ${b}`),
  fc.tuple(fc.emailAddress(), fc.emailAddress()).map(([a, b]) => `"${a}" <${b}>`),
  fc.emailAddress().map((a) => `${a}\r\nCc: victim@evil.example`),
);

const hostilePayload = fc.oneof(
  fc.record({ email: hostileAddress, subject: hostileText, body: hostileText }),
  fc.record({
    email: hostileAddress,
    template: fc.constant('report-ready'),
    variables: fc.record({ report_type: hostileText, report_url: hostileText }),
  }),
);

/** The platform's headers; anything else in a message is injected. */
const EXPECTED_HEADERS = new Set([
  'content-type',
  'content-transfer-encoding',
  'from',
  'to',
  'subject',
  'message-id',
  'date',
  'mime-version',
]);

function headersOf(eml: string): string[] {
  const head = eml.split(/\r?\n\r?\n/)[0] ?? '';
  // Continuation lines (starting with blanks) belong to the header before them.
  return head
    .split(/\r?\n(?![ \t])/)
    .map((line) => (line.split(':')[0] ?? '').trim().toLowerCase());
}

describe('e-mail header injection', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'header-injection-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is impossible through subject, address or template variables', async () => {
    const mailer = new FileMailer(dir, 'tasks@example.com');
    let sent = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(hostilePayload, async (input) => {
        const parsed = EmailSendPayload.safeParse(input);
        if (!parsed.success) {
          refused += 1;
          return;
        }
        const rendered = renderEmail(parsed.data);
        const messageId = `<${sent}@tasks.local>`;
        sent += 1;
        await mailer.send({ to: parsed.data.email, messageId, ...rendered });
        const file = join(dir, `${messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.eml`);
        const eml = await readFile(file, 'utf8');
        const names = headersOf(eml);
        for (const name of names) expect(EXPECTED_HEADERS).toContain(name);
        for (const single of ['from', 'to', 'message-id']) {
          expect(names.filter((n) => n === single)).toHaveLength(1);
        }
        // An empty subject is sent without the header (nodemailer omits it); never twice.
        expect(names.filter((n) => n === 'subject').length).toBe(rendered.subject === '' ? 0 : 1);
        expect(names).not.toContain('bcc');
        expect(names).not.toContain('cc');
        // The recipient is the one address that was validated, nothing else.
        const to = /^To: (.*)$/m.exec(eml)?.[1];
        expect(to).toBe(parsed.data.email);
      }),
      {
        numRuns: 400,
        // Both branches on every seed: one valid e-mail, one injection attempt.
        examples: [
          [{ email: 'user@example.com', subject: 'Hi', body: 'Hello' }],
          [{ email: 'user@example.com', subject: 'Hi\r\nBcc: victim@evil.example', body: 'x' }],
        ],
      },
    );
    await mailer.close();
    // Both branches ran: some inputs were refused, some sent.
    expect(refused).toBeGreaterThan(0);
    expect(sent).toBeGreaterThan(0);
    expect((await readdir(dir)).filter((f) => f.endsWith('.eml'))).toHaveLength(sent);
  });

  it.each(INJECTIONS.filter((s) => /[\r\n]/.test(s)))(
    'refuses a line break in the subject or address already in the schema: %j',
    (injection) => {
      expect(
        EmailSendPayload.safeParse({ email: 'a@example.com', subject: `Hi${injection}`, body: 'x' })
          .success,
      ).toBe(false);
      expect(
        EmailSendPayload.safeParse({ email: `a@example.com${injection}`, subject: 'Hi', body: 'x' })
          .success,
      ).toBe(false);
    },
  );
});

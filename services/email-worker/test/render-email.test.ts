/**
 * Rendering an e-mail payload (render-email.ts): as written, or a named template with its
 * variables; variables are HTML-escaped in the html part and kept on one line in the subject.
 */
import { EMAIL_TEMPLATES, type EmailSendPayload, errorCodeOf } from './support';
import { escapeHtml, fillTemplate, oneLine, renderEmail } from '../src/render-email';

describe('renderEmail', () => {
  it('keeps a written e-mail as it is, with its html part', () => {
    expect(
      renderEmail({
        email: 'ada@example.com',
        subject: 'Quarterly numbers',
        body: 'See attached.\nAda',
        html: '<p>See <b>attached</b>.</p>',
      }),
    ).toEqual({
      subject: 'Quarterly numbers',
      text: 'See attached.\nAda',
      html: '<p>See <b>attached</b>.</p>',
    });
  });

  it('has no html part when none is given', () => {
    expect(renderEmail({ email: 'a@example.com', subject: 's', body: 'b' })).toEqual({
      subject: 's',
      text: 'b',
    });
  });

  it('fills the welcome template', () => {
    const mail = renderEmail({
      email: 'ada@example.com',
      template: 'welcome',
      variables: { name: 'Ada' },
    });
    expect(mail.subject).toBe('Welcome, Ada');
    expect(mail.text).toBe('Hello Ada,\n\nwelcome aboard. Your account is ready.\n');
    expect(mail.html).toContain('<p>Hello Ada,</p>');
  });

  it('shows numbers as written', () => {
    const mail = renderEmail({
      email: 'ada@example.com',
      template: 'password-reset',
      variables: { name: 'Ada', reset_url: 'https://example.com/r/1', valid_minutes: 30 },
    });
    expect(mail.text).toContain('valid for 30 minutes');
  });

  it('escapes variables in the html part and leaves them as they are in the text', () => {
    const name = `<script>alert("x")</script> & 'Bob'`;
    const mail = renderEmail({ email: 'a@example.com', template: 'welcome', variables: { name } });
    expect(mail.html).toContain(
      '<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Bob&#39;,</p>',
    );
    expect(mail.html).not.toContain('<script>');
    expect(mail.text).toContain(`Hello ${name},`);
  });

  it('escapes a variable inside an attribute value', () => {
    const mail = renderEmail({
      email: 'a@example.com',
      template: 'report-ready',
      variables: { report_type: 'daily', report_url: '" onclick="steal()' },
    });
    expect(mail.html).toContain('href="&quot; onclick=&quot;steal()"');
  });

  it('keeps a subject on one line even when a variable holds a line break', () => {
    const mail = renderEmail({
      email: 'a@example.com',
      template: 'welcome',
      variables: { name: 'Ada\r\nBcc: victim@example.com' },
    });
    expect(mail.subject).toBe('Welcome, Ada Bcc: victim@example.com');
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('fails permanently for an unknown template', () => {
    const payload = { email: 'a@example.com', template: 'nope' } as unknown as EmailSendPayload;
    expect(errorCodeOf(() => renderEmail(payload))).toBe('TASK_PERMANENT');
  });

  it('fails permanently for a missing variable', () => {
    expect(
      errorCodeOf(() =>
        renderEmail({ email: 'a@example.com', template: 'welcome', variables: {} }),
      ),
    ).toBe('TASK_PERMANENT');
  });

  it('fails permanently without subject and body or a template', () => {
    expect(errorCodeOf(() => renderEmail({ email: 'a@example.com', body: 'x' }))).toBe(
      'TASK_PERMANENT',
    );
  });

  it('renders every template with all its variables', () => {
    for (const [name, template] of Object.entries(EMAIL_TEMPLATES)) {
      const names = [
        ...`${template.subject}${template.text}${template.html}`.matchAll(/\{\{(\w+)\}\}/g),
      ];
      const variables = Object.fromEntries(names.map((m) => [m[1], 'v']));
      const mail = renderEmail({
        email: 'a@example.com',
        template: name as EmailSendPayload['template'],
        variables,
      });
      expect(`${mail.subject}${mail.text}${mail.html ?? ''}`).not.toContain('{{');
    }
  });
});

describe('template helpers', () => {
  it('fills spaced placeholders and encodes each value', () => {
    expect(fillTemplate('Hi {{ name }}, {{name}}!', { name: 'a<b' }, escapeHtml)).toBe(
      'Hi a&lt;b, a&lt;b!',
    );
  });

  it('leaves text without placeholders alone', () => {
    expect(fillTemplate('no {braces} here', {})).toBe('no {braces} here');
  });

  it('turns control characters into single spaces', () => {
    expect(oneLine(' a\r\n\tb\u0000c ')).toBe('a b c');
  });

  it('escapes the five HTML specials', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });
});

describe('renderEmail in a workflow (payload.previous)', () => {
  const previous = { report_url: '/reports/r-1.pdf', items: [{ name: 'Ada\nLovelace' }], n: 3 };

  it('fills {{previous.<path>}} in subject, body and html from the previous result', () => {
    const mail = renderEmail({
      email: 'ops@example.com',
      subject: 'Ready: {{previous.report_url}} by {{ previous.items.0.name }}',
      body: 'Get {{previous.report_url}} ({{previous.n}} rows)',
      html: '<a href="{{previous.report_url}}">{{previous.items.0.name}}</a>',
      previous,
    });
    expect(mail).toEqual({
      subject: 'Ready: /reports/r-1.pdf by Ada Lovelace',
      text: 'Get /reports/r-1.pdf (3 rows)',
      html: '<a href="/reports/r-1.pdf">Ada\nLovelace</a>',
    });
  });

  it('fails permanently on a placeholder the previous result has no value for', () => {
    expect(() =>
      renderEmail({
        email: 'ops@example.com',
        subject: 'Ready: {{previous.report_url}}',
        body: 'b',
        previous: { status: 'completed' },
      }),
    ).toThrow(/previous\.report_url/);
  });

  it('leaves the text alone outside a workflow', () => {
    expect(
      renderEmail({ email: 'a@example.com', subject: '{{previous.x}}', body: 'b' }).subject,
    ).toBe('{{previous.x}}');
  });
});

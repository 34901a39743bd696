/**
 * The email worker's settings (config.ts): defaults for a developer, the breaker and rate-limit
 * settings, and the SMTP password from SMTP_PASSWORD or a secret file, never both, never shown
 * in an error.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config';

describe('loadConfig', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'email-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const thrown = (env: NodeJS.ProcessEnv): Error & { code?: string; variables?: string[] } => {
    try {
      loadConfig(env);
    } catch (err) {
      return err as Error & { code?: string; variables?: string[] };
    }
    throw new Error('expected a ConfigError');
  };

  it('writes .eml files with the breaker and no rate limit by default', () => {
    const config = loadConfig({});
    expect(config.SMTP_URL).toBeUndefined();
    expect(config).toMatchObject({
      MAIL_DIR: 'var/mail',
      SMTP_MAX_CONNECTIONS: 5,
      SMTP_REQUIRE_TLS: false,
      SMTP_TLS_REJECT_UNAUTHORIZED: true,
      EMAIL_BREAKER_THRESHOLD: 5,
      EMAIL_BREAKER_WINDOW_MS: 10_000,
      EMAIL_BREAKER_RESET_MS: 30_000,
      EMAIL_RATE_PER_SECOND: 10,
      EMAIL_RATE_BURST: 10,
    });
    expect(config.SMTP_SECURE).toBeUndefined();
    expect(config.SMTP_PASSWORD).toBeUndefined();
  });

  it('parses the SMTP, breaker and rate settings', () => {
    expect(
      loadConfig({
        SMTP_URL: 'smtps://mail.example.com',
        SMTP_SECURE: 'false',
        SMTP_TLS_REJECT_UNAUTHORIZED: '0',
        EMAIL_BREAKER_THRESHOLD: '2',
        EMAIL_RATE_PER_SECOND: '0.5',
        EMAIL_RATE_BURST: '3',
      }),
    ).toMatchObject({
      SMTP_SECURE: false,
      SMTP_TLS_REJECT_UNAUTHORIZED: false,
      EMAIL_BREAKER_THRESHOLD: 2,
      EMAIL_RATE_PER_SECOND: 0.5,
      EMAIL_RATE_BURST: 3,
    });
  });

  it('reads the password from SMTP_PASSWORD_FILE without its trailing newline', () => {
    const file = join(dir, 'smtp-password');
    writeFileSync(file, 's3cret pass\n');
    expect(loadConfig({ SMTP_USER: 'mailer', SMTP_PASSWORD_FILE: file }).SMTP_PASSWORD).toBe(
      's3cret pass',
    );
  });

  it('refuses SMTP_PASSWORD and SMTP_PASSWORD_FILE together', () => {
    const file = join(dir, 'both');
    writeFileSync(file, 'x');
    const err = thrown({ SMTP_PASSWORD: 'inline-secret', SMTP_PASSWORD_FILE: file });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.variables).toEqual(['SMTP_PASSWORD', 'SMTP_PASSWORD_FILE']);
    expect(err.message).not.toContain('inline-secret');
  });

  it('names SMTP_PASSWORD_FILE when the file cannot be read', () => {
    const err = thrown({ SMTP_PASSWORD_FILE: join(dir, 'missing') });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^SMTP_PASSWORD_FILE: cannot read .*missing \(ENOENT\)$/);
  });

  it('refuses an empty password file', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '\n');
    expect(thrown({ SMTP_PASSWORD_FILE: file }).message).toContain('is empty');
  });

  it('refuses SMTP_USER without a password', () => {
    expect(thrown({ SMTP_USER: 'mailer' }).variables).toEqual(['SMTP_USER']);
  });

  it.each([
    ['SMTP_URL', 'http://mail.example.com'],
    ['EMAIL_RATE_PER_SECOND', '-1'],
    ['EMAIL_RATE_BURST', '0'],
    ['EMAIL_BREAKER_THRESHOLD', '0'],
    ['EMAIL_BREAKER_RESET_MS', 'soon'],
    ['SMTP_SECURE', 'maybe'],
  ])('names %s when it is invalid', (name, value) => {
    const err = thrown({ [name]: value });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.variables).toEqual([name]);
    expect(err.message).not.toContain(value);
  });
});

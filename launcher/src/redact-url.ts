/**
 * Masks the password of a URL before it is printed.
 */

/** What a password is replaced with. */
export const MASK = '***';

/**
 * Returns `raw` with its password (if any) replaced by `***`:
 * `amqp://guest:guest@host:5672` → `amqp://guest:***@host:5672`,
 * `redis://:secret@host:6379` → `redis://:***@host:6379`. Never throws: a string that does not
 * parse as a URL is masked by pattern.
 */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password === '') return raw;
    url.password = MASK;
    return url.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]*):[^@/]*@/, `//$1:${MASK}@`);
  }
}

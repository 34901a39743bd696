/**
 * The chaos run's HTTP client: every request has a deadline, and each outcome is sorted into what
 * a client can know: an answer (any status), refused (the connection was refused, so the gateway
 * never saw the request) or unknown (timed out or cut after sending: it may have been handled).
 */
export type Outcome =
  | { readonly kind: 'answer'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'refused'; readonly error: string }
  | { readonly kind: 'unknown'; readonly error: string };

export const REQUEST_TIMEOUT_MS = 10_000;

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<Outcome> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    return { kind: 'answer', status: response.status, body: parsed };
  } catch (err) {
    const code = errorCode(err);
    const error = `${code ?? ''} ${err instanceof Error ? err.message : String(err)}`.trim();
    return code === 'ECONNREFUSED' ? { kind: 'refused', error } : { kind: 'unknown', error };
  }
}

/** The errno code of a fetch failure (undici puts it on `cause`). */
function errorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    current = (current as Error & { cause?: unknown }).cause;
  }
  return undefined;
}

/** A short label of an outcome for counting: `202`, `503`, `refused`, `unknown`. */
export function outcomeLabel(outcome: Outcome): string {
  return outcome.kind === 'answer' ? String(outcome.status) : outcome.kind;
}

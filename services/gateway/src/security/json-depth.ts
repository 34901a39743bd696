/**
 * Refuses JSON bodies nested deeper than a bound before they are parsed: a scan of the raw bytes
 * counts brackets outside strings and stops at the first one too deep, so neither JSON.parse nor
 * the recursive code further on (validation, hashing, serialising the command) ever meets such a
 * body. The scan is one pass over bytes without allocation; it decides nothing else about the
 * text (malformed JSON is still the parser's to refuse).
 */
import { HttpError } from '../http-error';

/** @default nesting levels of `[` and `{` a body may have (JSON_MAX_DEPTH). */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The 422 of a body nested deeper than `maxDepth`. */
export function depthError(maxDepth: number): HttpError {
  return new HttpError(422, [
    { loc: ['body'], msg: `JSON nested deeper than ${maxDepth} levels`, type: 'value_error' },
  ]);
}

/**
 * Whether the JSON text in `bytes` (UTF-8, or the UTF-16 code units of a decoded string) opens
 * more than `maxDepth` levels of arrays and objects. Brackets inside strings do not count;
 * multi-byte UTF-8 never contains these bytes.
 */
export function rawDepthExceeds(bytes: Uint8Array | Uint16Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth -= 1;
    }
  }
  return false;
}

/**
 * For express.json's `verify` hook, which sees the raw body before it is parsed.
 *
 * @throws HttpError 422 when the body is nested deeper than `maxDepth`
 */
export function refuseDeepJson(
  maxDepth: number,
): (req: unknown, res: unknown, buf: Buffer, encoding: string | null) => void {
  return (_req, _res, buf, encoding) => {
    if (rawDepthExceeds(codeUnits(buf, encoding), maxDepth)) throw depthError(maxDepth);
  };
}

/**
 * The bytes to scan: UTF-8 as they are; another charset (UTF-16 may put a bracket's byte inside
 * a character) decoded first. A charset the decoder does not know is left to body-parser (415).
 */
function codeUnits(buf: Buffer, encoding: string | null): Uint8Array | Uint16Array {
  if (encoding === null || /^utf-?8$/i.test(encoding)) return buf;
  let text: string;
  try {
    text = new TextDecoder(encoding).decode(buf);
  } catch {
    return new Uint8Array(0);
  }
  const units = new Uint16Array(text.length);
  for (let i = 0; i < text.length; i += 1) units[i] = text.charCodeAt(i);
  return units;
}

/**
 * Refuses JSON bodies nested deeper, or with larger objects or arrays, than the bounds before
 * they are parsed: a scan of the raw bytes counts brackets and commas outside strings and stops
 * at the first one too many, so neither JSON.parse nor the code further on (validation, which
 * makes an issue per bad member; hashing; serialising the command) ever meets such a body. The
 * scan is one pass over the bytes; it decides nothing else about the text (malformed JSON is
 * still the parser's to refuse).
 */
import { HttpError } from '../http-error';

/** @default nesting levels of `[` and `{` a body may have (JSON_MAX_DEPTH). */
export const MAX_JSON_DEPTH = 32;
/** @default keys one JSON object of a body may have (JSON_MAX_KEYS). */
export const MAX_JSON_KEYS = 1000;
/** @default items one JSON array of a body may have (JSON_MAX_ITEMS); `data.records` takes 100 000. */
export const MAX_JSON_ITEMS = 100_000;

/** The bounds a body's raw JSON is checked against. */
export interface JsonShapeLimits {
  readonly maxDepth: number;
  readonly maxKeys: number;
  readonly maxItems: number;
}

export const DEFAULT_JSON_SHAPE: JsonShapeLimits = {
  maxDepth: MAX_JSON_DEPTH,
  maxKeys: MAX_JSON_KEYS,
  maxItems: MAX_JSON_ITEMS,
};

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

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
  return scanJsonShape(bytes, { maxDepth, maxKeys: Infinity, maxItems: Infinity }) !== undefined;
}

/**
 * The 422 for the first bound the JSON text in `bytes` breaks, or undefined: nesting deeper
 * than `maxDepth`, an object of more than `maxKeys` keys, an array of more than `maxItems`
 * items. Members are counted by the commas at their level, so the scan stops at the first
 * member too many; malformed text is left to the parser.
 */
export function scanJsonShape(
  bytes: Uint8Array | Uint16Array,
  limits: JsonShapeLimits,
): HttpError | undefined {
  const { maxDepth, maxKeys, maxItems } = limits;
  // Per open container: whether it is an object, and its members so far (commas + 1).
  const isObject = new Uint8Array(maxDepth + 1);
  const members = new Float64Array(maxDepth + 1);
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
      if (depth > maxDepth) return depthError(maxDepth);
      isObject[depth] = byte === OPEN_BRACE ? 1 : 0;
      members[depth] = 1;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth = Math.max(0, depth - 1);
    } else if (byte === COMMA && depth > 0) {
      const count = members[depth]! + 1;
      members[depth] = count;
      if (isObject[depth] === 1 && count > maxKeys) {
        return shapeError(`JSON object with more than ${maxKeys} keys`);
      }
      if (isObject[depth] === 0 && count > maxItems) {
        return shapeError(`JSON array with more than ${maxItems} items`);
      }
    }
  }
  return undefined;
}

const shapeError = (msg: string): HttpError =>
  new HttpError(422, [{ loc: ['body'], msg, type: 'value_error' }]);

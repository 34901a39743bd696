/**
 * The one JSON body decoder of the gateway, for express (after express.raw read, inflated and
 * bounded the bytes) and for the fast path (which reads plain UTF-8 bodies itself): the charset,
 * the byte order mark, the shape limits on the raw text (before it is parsed), strict JSON (an
 * object or an array) and the error texts, in FastAPI's shapes.
 */
import express, { type RequestHandler } from 'express';
import { HttpError } from '../http-error';
import { DEFAULT_JSON_SHAPE, type JsonShapeLimits, scanJsonShape } from '../security/json-depth';

/** The media types read as JSON (as type-is matches them). */
export const JSON_MEDIA_TYPES = ['application/json', 'application/*+json'];

export const unsupportedEncoding = (): HttpError => new HttpError(415, 'Unsupported body encoding');

/** The 422 of a body that is no JSON (or no object or array). */
export const jsonDecodeError = (message: string): HttpError =>
  new HttpError(422, [
    { loc: ['body'], msg: `JSON decode error: ${message}`, type: 'json_invalid' },
  ]);

/** Express middleware: `req.body` decoded from the bytes express.raw read, for JSON media types. */
export function jsonBodyParser(options: {
  readonly limit: number;
  readonly shape?: JsonShapeLimits;
}): RequestHandler[] {
  const decode: RequestHandler = (req, _res, next) => {
    if (!Buffer.isBuffer(req.body)) {
      next();
      return;
    }
    try {
      req.body = decodeJsonBody(req.body, req.headers, options.shape);
      next();
    } catch (err) {
      next(err);
    }
  };
  return [express.raw({ type: JSON_MEDIA_TYPES, limit: options.limit }), decode];
}

/**
 * The JSON value of a body. Empty: missing (undefined) when Content-Length says 0, else `{}`.
 *
 * @throws HttpError 415 (a charset other than UTF-8/UTF-16), 422 (shape limits, not JSON, not an
 *   object or array)
 */
export function decodeJsonBody(
  bytes: Buffer,
  headers: { readonly 'content-type'?: string; readonly 'content-length'?: string },
  shape: JsonShapeLimits = DEFAULT_JSON_SHAPE,
): unknown {
  const charset = charsetOf(headers['content-type']);
  let text: string;
  if (charset === 'utf-8') {
    const refusal = scanJsonShape(bytes, shape);
    if (refusal) throw refusal;
    text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  } else {
    // UTF-16 may put a bracket's byte inside a character: scan the decoded code units.
    text = decodeOther(bytes, charset);
    const units = new Uint16Array(text.length);
    for (let i = 0; i < text.length; i += 1) units[i] = text.charCodeAt(i);
    const refusal = scanJsonShape(units, shape);
    if (refusal) throw refusal;
  }
  if (text.length === 0) return headers['content-length'] === '0' ? undefined : {};
  return parseStrictJson(text);
}

/** The charset parameter of a Content-Type, lower case; UTF-8 when absent. */
function charsetOf(contentType: string | undefined): string {
  const match = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(contentType ?? '');
  return (match?.[1] ?? match?.[2] ?? 'utf-8').toLowerCase();
}

/** Text in another UTF encoding (the BOM dropped); any other charset is refused. */
function decodeOther(bytes: Buffer, charset: string): string {
  if (!charset.startsWith('utf-')) throw unsupportedEncoding();
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    throw unsupportedEncoding();
  }
}

/** An object or an array, as body-parser's strict mode parses it, with its error texts. */
export function parseStrictJson(text: string): unknown {
  try {
    const first = /^[\x20\x09\x0a\x0d]*([^\x20\x09\x0a\x0d])/.exec(text)?.[1];
    if (first !== '{' && first !== '[') throw strictViolation(text, first);
    return JSON.parse(text);
  } catch (err) {
    throw jsonDecodeError(err instanceof Error ? err.message : 'invalid JSON');
  }
}

/** body-parser's message for a body that is JSON but no object or array (MIT, body-parser 2). */
function strictViolation(text: string, first: string | undefined): Error {
  const index = first === undefined ? -1 : text.indexOf(first);
  const partial = index === -1 ? '' : text.slice(0, index) + '#'.repeat(text.length - index);
  try {
    JSON.parse(partial);
    return new SyntaxError('strict violation');
  } catch (err) {
    const message = err instanceof Error ? err.message : 'strict violation';
    return new SyntaxError(
      message.replace(/#+/g, (placeholder) => text.slice(index, index + placeholder.length)),
    );
  }
}

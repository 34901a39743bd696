/**
 * The gateway's one JSON body decoder answers as express.json (body-parser, strict) did, in
 * FastAPI's shapes: the same requests go to an app with express.json and to one with
 * jsonBodyParser, and the status and body must match (the 422 texts of malformed JSON, of JSON
 * that is no object or array, the byte order mark, charsets, sizes, empty bodies).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { HttpError } from '../src/http-error';
import { jsonBodyParser } from '../src/http/json-body';

const LIMIT = 1000;

/** What a route sees as its body. */
const echo: RequestHandler = (req, res) => {
  res.json({ body: req.body === undefined ? '<none>' : (req.body as unknown) });
};

/** The routes read express.json's `{}` of an empty body as missing when Content-Length said 0. */
const emptyIsMissing: RequestHandler = (req, _res, next) => {
  if (req.get('content-length') === '0') req.body = undefined;
  next();
};

/** body-parser's errors as the gateway mapped them before it had its own decoder. */
const bodyParserErrors: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  const type = (err as { type?: string }).type;
  const message = err instanceof Error ? err.message : '';
  if (type === 'entity.parse.failed') {
    res.status(422).json({
      detail: [{ loc: ['body'], msg: `JSON decode error: ${message}`, type: 'json_invalid' }],
    });
  } else if (type === 'entity.too.large') {
    res.status(413).json({ detail: `Request body too large: at most ${LIMIT} bytes of JSON` });
  } else if (type === 'charset.unsupported' || type === 'encoding.unsupported') {
    res.status(415).json({ detail: 'Unsupported body encoding' });
  } else res.status(500).json({ detail: message });
};

const ourErrors: ErrorRequestHandler = (err: unknown, _req, res, _next) => {
  if (err instanceof HttpError) res.status(err.status).json({ detail: err.detail });
  else bodyParserErrors(err, _req, res, _next);
};

describe('jsonBodyParser', () => {
  const servers: Server[] = [];
  let theirs: string;
  let ours: string;

  const listen = async (app: express.Express): Promise<string> => {
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    const a = express();
    a.use(express.json({ limit: LIMIT, type: ['application/json', 'application/*+json'] }));
    a.post('/', emptyIsMissing, echo);
    a.use(bodyParserErrors);
    theirs = await listen(a);
    const b = express();
    b.use(jsonBodyParser({ limit: LIMIT }));
    b.post('/', echo);
    b.use(ourErrors);
    ours = await listen(b);
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const json = 'application/json';
  const cases: [string, string | Buffer, string | undefined][] = [
    ['an object', '{"a": [1, {"b": null}]}', json],
    ['an array', '[1, 2]', json],
    ['malformed JSON', '{"email": ', json],
    ['a trailing comma', '{"a": 1,}', json],
    ['a string', ' "text"', json],
    ['a number', '12', json],
    ['true', 'true', json],
    ['a byte order mark', '\ufeff{"data":{}}', json],
    ['whitespace only', '  \n ', json],
    ['an empty body', '', json],
    ['UTF-8 named', '{"a":"é"}', 'application/json; charset=utf-8'],
    ['UTF-8 quoted', '{"a":"é"}', 'application/json; charset="UTF-8"'],
    [
      'UTF-16LE',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":"é"}', 'utf16le')]),
      'application/json; charset=utf-16le',
    ],
    ['latin1', '{"a":"x"}', 'application/json; charset=latin1'],
    ['an unknown charset', '{"a":"x"}', 'application/json; charset=klingon'],
    ['a +json media type', '{"a":1}', 'application/vnd.api+json'],
    ['text/plain', '{"a":1}', 'text/plain'],
    ['no content type', '{"a":1}', undefined],
    ['over the limit', `{"x":"${'y'.repeat(LIMIT)}"}`, json],
  ];

  it.each(cases)('answers %s as express.json did', async (_name, body, type) => {
    const send = async (base: string) => {
      const response = await fetch(base, {
        method: 'POST',
        body,
        headers: type === undefined ? {} : { 'content-type': type },
      });
      return { status: response.status, body: await response.json() };
    };
    expect(await send(ours)).toEqual(await send(theirs));
  });
});

/**
 * docs/api.md's endpoint reference, rendered from the OpenAPI document (so from the route table
 * and the contracts' zod schemas): per endpoint its access, parameters, request body fields and
 * responses. test/api-docs.test.ts keeps the document in step (`npm run docs:api` rewrites it).
 */
type Json = Record<string, unknown>;

interface Parameter {
  readonly name: string;
  readonly in: string;
  readonly required?: boolean;
  readonly description?: string;
  readonly schema?: Json;
}

interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly 'x-access'?: string;
  readonly parameters?: readonly Parameter[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: Json }> };
  readonly responses?: Record<string, { readonly description?: string }>;
}

/** Table-cell text: one line, `|` escaped, `<` and `>` shown rather than read as HTML. */
const cell = (text: string): string =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');

const row = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;

const table = (header: readonly string[], rows: readonly string[][]): string[] => [
  row(header),
  row(header.map(() => '---')),
  ...rows.map(row),
];

const ACCESS_TEXT: Record<string, string> = {
  public: 'public (no key)',
  authenticated: 'any key',
};

/** A JSON Schema's type in a few words. */
function typeOf(schema: Json | undefined): string {
  if (!schema) return 'any';
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeOf).join(' or ');
  const type = schema.type;
  if (type === 'array') return `array of ${typeOf(schema.items as Json | undefined)}`;
  if (typeof type === 'string') {
    return typeof schema.format === 'string' ? `${type} (${schema.format})` : type;
  }
  return 'any';
}

/** A field's bounds, as short as the schema says them. */
function bounds(schema: Json): string {
  const parts: string[] = [];
  if (schema.minimum !== undefined) parts.push(`≥ ${JSON.stringify(schema.minimum)}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${JSON.stringify(schema.maximum)}`);
  if (schema.maxLength !== undefined)
    parts.push(`at most ${JSON.stringify(schema.maxLength)} characters`);
  if (schema.maxItems !== undefined) parts.push(`at most ${JSON.stringify(schema.maxItems)} items`);
  if (schema.default !== undefined) parts.push(`default ${JSON.stringify(schema.default)}`);
  return parts.join(', ');
}

function describeField(schema: Json): string {
  const text = typeof schema.description === 'string' ? schema.description : '';
  const limits = bounds(schema);
  return [text, limits].filter((s) => s !== '').join('; ');
}

function bodyFields(schema: Json): string[] {
  const properties = (schema.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema.required ?? []) as string[]);
  const lines = table(
    ['field', 'type', 'required', 'meaning'],
    Object.entries(properties).map(([name, field]) => [
      `\`${name}\``,
      cell(typeOf(field)),
      required.has(name) ? 'yes' : '',
      cell(describeField(field)),
    ]),
  );
  const alternatives = (schema.anyOf ?? []) as Json[];
  if (alternatives.length > 0) {
    const either = alternatives.map((a) =>
      ((a.required ?? []) as string[]).map((f) => `\`${f}\``).join(' and '),
    );
    lines.push('', `Also required: ${either.join(', or ')}.`);
  }
  return lines;
}

function renderOperation(method: string, path: string, op: Operation): string {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, '', `${op.summary}.`, ''];
  const access = op['x-access'] ?? 'authenticated';
  lines.push(
    `Access: ${ACCESS_TEXT[access] ?? `\`${access}\``} · operationId \`${op.operationId}\``,
    '',
  );
  if (op.description) lines.push(op.description, '');
  if (op.parameters && op.parameters.length > 0) {
    lines.push(
      ...table(
        ['parameter', 'in', 'required', 'meaning'],
        op.parameters.map((p) => [
          `\`${p.name}\``,
          p.in,
          p.required ? 'yes' : '',
          cell(
            [p.description ?? typeOf(p.schema), bounds(p.schema ?? {})].filter(Boolean).join('; '),
          ),
        ]),
      ),
      '',
    );
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body?.type === 'object' && body.properties)
    lines.push('JSON body:', '', ...bodyFields(body), '');
  else if (body) lines.push(`JSON body: ${typeOf(body)}.`, '');
  const responses = Object.entries(op.responses ?? {});
  if (responses.length > 0) {
    lines.push(
      ...table(
        ['status', 'answer'],
        responses.map(([status, r]) => [status, cell(r.description ?? '')]),
      ),
      '',
    );
  }
  return lines.join('\n').trimEnd();
}

/** The reference: an index of every endpoint, then each one, in the document's order. */
export function renderApiReference(openApi: Json): string {
  const paths = openApi.paths as Record<string, Record<string, Operation>>;
  const operations = Object.entries(paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method, path, op })),
  );
  const anchor = (method: string, path: string): string =>
    `${method} ${path}`
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');
  const index = table(
    ['endpoint', 'access', 'what'],
    operations.map(({ method, path, op }) => [
      `[\`${method.toUpperCase()} ${path}\`](#${anchor(method, path)})`,
      ACCESS_TEXT[op['x-access'] ?? 'authenticated'] ?? `\`${op['x-access']}\``,
      cell(op.summary),
    ]),
  );
  return [
    ...index,
    '',
    ...operations.map(({ method, path, op }) => renderOperation(method, path, op) + '\n'),
  ]
    .join('\n')
    .trimEnd();
}

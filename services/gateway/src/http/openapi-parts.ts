/** The pieces the routes' OpenAPI operations are made of, from the contracts' zod schemas. */
import { ErrorResponse, ValidationErrorResponse } from '@tasks/contracts';
import { z } from 'zod';

export type JsonObject = Record<string, unknown>;

/** A zod schema as JSON Schema (zod's own output), never written by hand. */
export const jsonSchema = (schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' });

/** A JSON response of `schema`. */
export const json = (description: string, schema: z.ZodType): JsonObject => ({
  description,
  content: { 'application/json': { schema: jsonSchema(schema) } },
});

/** A required JSON request body of `schema`. */
export const jsonBody = (schema: z.ZodType): JsonObject => ({
  required: true,
  content: { 'application/json': { schema: jsonSchema(schema, 'input') } },
});

export const validationError = json(
  'Validation error: `detail` lists each bad field as `{loc, msg, type}`',
  ValidationErrorResponse,
);

export const unavailable = json(
  'Broker or store unavailable; retry after the `Retry-After` header',
  ErrorResponse,
);

export const notFound = (description: string): JsonObject => json(description, ErrorResponse);

export const pathParam = (name: string): JsonObject => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
});

import type { z } from 'zod';
import { ConfigError } from '../errors';
import { sentinelConfigIssues } from './redis-sentinel-config';

/**
 * Parses `env` with a service's schema, once, at start-up; returns a frozen, typed config.
 * Empty strings count as unset (compose files often pass `VAR=`).
 *
 * @throws ConfigError naming every bad variable, never its value (it may be a secret).
 */
export function parseConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<S>> {
  const relevant: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const parsed = schema.safeParse(relevant);
  if (parsed.success) {
    // Settings that are only wrong together (a zod object refinement would stop .extend()).
    const issues = sentinelConfigIssues(parsed.data);
    if (issues.length > 0) {
      throw new ConfigError(
        `invalid configuration: ${issues.map((i) => `${i.variable}: ${i.message}`).join('; ')}`,
        issues.map((i) => i.variable),
      );
    }
    return Object.freeze(parsed.data);
  }
  const lines = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '(config)');
    return `${name}: ${issue.message}`;
  });
  const variables = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '')))];
  throw new ConfigError(`invalid configuration: ${lines.join('; ')}`, variables);
}

/** Every variable of a schema with its description and default, for docs and their test. */
export function describeConfig(
  schema: z.ZodObject,
): { name: string; description: string; defaultValue: string | undefined }[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const zodField = field as z.ZodType;
    const probe = zodField.safeParse(undefined);
    const defaultValue =
      probe.success && probe.data !== undefined ? JSON.stringify(probe.data) : undefined;
    return { name, description: zodField.description ?? '', defaultValue };
  });
}

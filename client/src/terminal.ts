/**
 * The states a task or workflow never leaves. The same set as `@tasks/contracts`' TERMINAL_STATES
 * (a unit test keeps them equal): the client imports contracts for types only, so neither a
 * browser bundle nor the `tasks` command loads zod and every schema at run time.
 */
import type { TaskState } from '@tasks/contracts';

const TERMINAL: ReadonlySet<string> = new Set<TaskState>(['SUCCESS', 'FAILURE', 'REVOKED']);

export const isTerminalState = (state: string): boolean => TERMINAL.has(state);

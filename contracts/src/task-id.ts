/**
 * The platform's task ids: lowercase RFC 9562 UUIDs, version 4 (random: the gateway, workflow
 * steps) or 8 (derived from a schedule and its due time: the scheduler). A command carrying
 * anything else did not come from the platform; as ids end up in Redis keys, file names and
 * logs, the command schema refuses them.
 */
import { z } from 'zod';

export const TASK_ID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[48][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export const TaskId = z
  .string()
  .regex(TASK_ID_PATTERN, 'must be a task id of the platform (a lowercase UUID, version 4 or 8)');

export const isPlatformTaskId = (value: string): boolean => TASK_ID_PATTERN.test(value);

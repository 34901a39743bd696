/** Each command of `tasks`: one call or two of the client, the printing, the exit code. */
import {
  progressOf,
  type ServiceControlResponse,
  type TasksClient,
  type TaskState,
  type TaskStatusResponse,
} from '@tasks/client';
import { type Invocation, parseJsonObject, required } from './args';
import { EXIT, type ExitCode, exitCodeOfState, UsageError } from './exit-codes';
import type { Output } from './output';
import { formatTable } from './table';

export interface Context {
  readonly client: TasksClient;
  readonly output: Output;
  readonly invocation: Invocation;
}

type Command = (ctx: Context) => Promise<ExitCode>;

export const COMMANDS: Readonly<Record<string, Command>> = {
  submit: async ({ client, output, invocation: inv }) => {
    const type = required(inv.args, 0, 'task type');
    const body = parseJsonObject(inv.args[1], 'submit');
    const created = await client.submit(type, body, {
      priority: inv.priority,
      countdown: inv.countdown,
      eta: inv.eta,
      idempotencyKey: inv.idempotencyKey,
    });
    output.record(created, `queued ${created.task_id}`);
    return inv.wait ? follow({ client, output, invocation: inv }, created.task_id) : EXIT.ok;
  },

  list: async ({ client, output, invocation: inv }) => {
    if (inv.args[0] !== undefined) throw new UsageError(`list takes no argument '${inv.args[0]}'`);
    const page = await client.listTasks({
      state: inv.states as TaskState[],
      type: inv.types,
      ...(inv.since !== undefined ? { since: inv.since } : {}),
      ...(inv.until !== undefined ? { until: inv.until } : {}),
      ...(inv.query !== undefined ? { q: inv.query } : {}),
      ...(inv.limit !== undefined ? { limit: inv.limit } : {}),
      ...(inv.cursor !== undefined ? { cursor: inv.cursor } : {}),
    });
    if (output.json) {
      for (const task of page.tasks) output.record(task);
    } else {
      output.note(
        formatTable(
          ['TASK ID', 'STATE', 'TYPE', 'CREATED', 'ATTEMPT', 'WORKER', 'ERROR'],
          page.tasks.map((t) => [
            t.task_id,
            t.status,
            t.task_type ?? '-',
            t.created_at ?? '-',
            String(t.attempt ?? 0),
            t.worker ?? '-',
            t.error ?? '',
          ]),
        ),
      );
    }
    output.note(
      page.next_cursor ? `more: tasks list ... --cursor ${page.next_cursor}` : '(end of the list)',
    );
    return EXIT.ok;
  },

  status: async ({ client, output, invocation: inv }) => {
    const task = await client.get(required(inv.args, 0, 'task id'));
    output.record(task, describeTask(task));
    return EXIT.ok;
  },

  wait: async ({ client, output, invocation: inv }) => {
    const task = await client.wait(required(inv.args, 0, 'task id'), { timeoutMs: inv.timeoutMs });
    output.record(task, describeTask(task));
    return exitCodeOfState(task.status);
  },

  watch: (ctx) => follow(ctx, required(ctx.invocation.args, 0, 'task id')),

  cancel: async ({ client, output, invocation: inv }) => {
    const cancelled = await client.cancel(required(inv.args, 0, 'task id'), {
      terminate: inv.terminate,
    });
    output.record(cancelled, `${cancelled.message} (was ${cancelled.previous_status})`);
    return EXIT.ok;
  },

  'dead-letters': async ({ client, output, invocation: inv }) => {
    if (inv.args[0] === 'replay') {
      const replayed = await client.deadLetters.replay(required(inv.args, 1, 'task id'));
      output.record(replayed, `replayed ${replayed.task_id} (attempt ${replayed.attempt})`);
      return EXIT.ok;
    }
    if (inv.args[0] !== undefined)
      throw new UsageError(`unknown dead-letters action '${inv.args[0]}'`);
    const listing = await client.deadLetters.list({ limit: inv.limit });
    for (const letter of listing.dead_letters) {
      output.record(
        letter,
        `${letter.task_id} ${letter.type ?? '?'} parked ${letter.parked_at} attempt ${letter.attempt}: ${letter.reason}`,
      );
    }
    output.note(`${listing.dead_letters.length} of ${listing.total} dead letters`);
    return EXIT.ok;
  },

  schedules: async ({ client, output, invocation: inv }) => {
    if (inv.args[0] === 'run') {
      const fired = await client.schedules.run(required(inv.args, 1, 'schedule name'));
      output.record(fired, `${fired.message}: queued ${fired.task_id}`);
      return EXIT.ok;
    }
    if (inv.args[0] === 'create') {
      const created = await client.schedules.create(
        parseJsonObject(inv.args[1], 'schedules create') as never,
      );
      output.record(created, `created schedule ${created.name}`);
      return EXIT.ok;
    }
    if (inv.args[0] === 'replace') {
      const name = required(inv.args, 1, 'schedule name');
      const replaced = await client.schedules.replace(
        name,
        parseJsonObject(inv.args[2], 'schedules replace') as never,
      );
      output.record(replaced, `replaced schedule ${replaced.name}`);
      return EXIT.ok;
    }
    if (inv.args[0] === 'delete') {
      const name = required(inv.args, 1, 'schedule name');
      await client.schedules.delete(name);
      output.record({ name, deleted: true }, `deleted schedule ${name}`);
      return EXIT.ok;
    }
    if (inv.args[0] !== undefined)
      throw new UsageError(`unknown schedules action '${inv.args[0]}'`);
    const { schedules } = await client.schedules.list();
    for (const schedule of schedules) {
      const when = schedule.cron ?? `every ${String(schedule.every)}`;
      output.record(
        schedule,
        `${schedule.name} ${schedule.task} ${when}${schedule.enabled ? '' : ' (paused)'} next ${schedule.next_run_at ?? '-'}`,
      );
    }
    return EXIT.ok;
  },

  workers: async ({ client, output, invocation: inv }) => {
    if (inv.args[0] === 'concurrency') {
      const service = required(inv.args, 1, 'service');
      const concurrency = Number(required(inv.args, 2, 'concurrency'));
      if (!Number.isInteger(concurrency)) throw new UsageError('concurrency must be an integer');
      const changed = await client.workers.setConcurrency(service, concurrency);
      output.record(changed, describeControl(changed));
      return EXIT.ok;
    }
    if (inv.args[0] === 'drain') {
      const drained = await client.workers.drain(required(inv.args, 1, 'instance'));
      output.record(drained, `${drained.instance}: ${drained.message}`);
      return EXIT.ok;
    }
    if (inv.args[0] !== undefined) throw new UsageError(`unknown workers action '${inv.args[0]}'`);
    const { workers, services } = await client.workers.list();
    for (const w of workers) {
      const state = !w.online ? 'offline' : w.draining ? 'draining' : w.paused ? 'paused' : 'up';
      output.record(
        w,
        `${w.instance} ${state} concurrency ${w.concurrency} running ${w.current_tasks.length} processed ${w.processed} failed ${w.failed} uptime ${w.uptime_s ?? '-'}s`,
      );
    }
    for (const s of services.filter((s) => s.paused || s.concurrency !== null)) {
      output.note(
        `${s.service}${s.paused ? ' paused' : ''}${s.concurrency === null ? '' : ` concurrency ${s.concurrency}`} (by ${s.updated_by ?? '-'})`,
      );
    }
    return EXIT.ok;
  },

  pause: async ({ client, output, invocation: inv }) => {
    const paused = await client.workers.pause(required(inv.args, 0, 'service'));
    output.record(paused, describeControl(paused));
    return EXIT.ok;
  },

  resume: async ({ client, output, invocation: inv }) => {
    const resumed = await client.workers.resume(required(inv.args, 0, 'service'));
    output.record(resumed, describeControl(resumed));
    return EXIT.ok;
  },

  workflow: async ({ client, output, invocation: inv }) => {
    const body = parseJsonObject(inv.args[0], 'workflow');
    const created = await client.workflows.submit(body as never);
    output.record(
      created,
      `queued workflow ${created.workflow_id} (${created.task_ids.length} tasks)`,
    );
    if (!inv.wait) return EXIT.ok;
    const done = await client.workflows.wait(created.workflow_id, { timeoutMs: inv.timeoutMs });
    output.record(
      done,
      `workflow ${done.workflow_id} ${done.status}${done.error ? ` ${done.error}` : ''}`,
    );
    return exitCodeOfState(done.status);
  },
};

function describeControl(control: ServiceControlResponse): string {
  return `${control.service}: ${control.message}`;
}

/** Follows a task to its end: a bar or lines, then the final record; exit by its state. */
async function follow(
  { client, output, invocation: inv }: Context,
  taskId: string,
): Promise<ExitCode> {
  const follower = output.follower();
  let last: TaskStatusResponse | undefined;
  try {
    for await (const task of client.watch(taskId, { timeoutMs: inv.timeoutMs })) {
      last = task;
      follower.update(progressOf(task));
    }
  } finally {
    follower.stop();
  }
  const final = last ?? (await client.get(taskId));
  // A line per change has printed the final record already, as its last line.
  if (!follower.printsEachChange) output.record(final, describeTask(final));
  return exitCodeOfState(final.status);
}

function describeTask(task: TaskStatusResponse): string {
  const detail = task.error ?? (task.result ? JSON.stringify(task.result) : '');
  return `${task.task_id} ${task.status}${detail ? ` ${detail}` : ''}`;
}

/**
 * Sees when tasks reach their final state in Redis, by polling: one pipelined HMGET of every
 * watched task about once a millisecond. Every system is observed the same way, so the
 * observation cost and resolution (about 1 ms) are the same for all.
 */
import type Redis from 'ioredis';
import { nowMs, pause } from './clock';

/** How one system's finished task looks in Redis. */
export interface Probe {
  /** The key holding the task's record. */
  key(id: string): string;
  /** Two hash fields: the first tells whether the task finished, the second holds its result. */
  readonly fields: readonly [string, string];
  /** True when the first field's value says the task succeeded. */
  done(value: string | null): boolean;
}

export interface Observed {
  /** When the poll that saw it finished came back (machine monotonic ms). */
  readonly at: number;
  /** The handler's own stamps from its result: start and end of the handler. */
  readonly handlerStart?: number;
  readonly handlerEnd?: number;
}

interface Watch {
  readonly id: string;
  readonly resolve: (observed: Observed) => void;
}

export class Observer {
  private readonly watched = new Map<string, Watch>();
  private running = true;
  private readonly loop: Promise<void>;
  polls = 0;

  constructor(
    private readonly redis: Redis,
    private readonly probe: Probe,
  ) {
    this.loop = this.run();
  }

  /** Resolves when the task is seen finished. */
  watch(id: string): Promise<Observed> {
    return new Promise((resolve) => this.watched.set(id, { id, resolve }));
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.watched.size === 0) {
        await pause(1);
        continue;
      }
      const watches = [...this.watched.values()];
      const pipeline = this.redis.pipeline();
      for (const w of watches) pipeline.hmget(this.probe.key(w.id), ...this.probe.fields);
      const replies = (await pipeline.exec()) ?? [];
      const at = nowMs();
      this.polls += 1;
      watches.forEach((w, i) => {
        const [err, values] = replies[i] ?? [];
        if (err || !Array.isArray(values)) return;
        const [state, result] = values as (string | null)[];
        if (!this.probe.done(state ?? null)) return;
        this.watched.delete(w.id);
        w.resolve({ at, ...stampsOf(result ?? null) });
      });
      await pause(1);
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/** The `{t2, t3}` the benchmark handlers return, from a stored JSON result. */
function stampsOf(result: string | null): { handlerStart?: number; handlerEnd?: number } {
  if (!result) return {};
  try {
    const parsed = JSON.parse(result) as { t2?: unknown; t3?: unknown };
    return typeof parsed.t2 === 'number' && typeof parsed.t3 === 'number'
      ? { handlerStart: parsed.t2, handlerEnd: parsed.t3 }
      : {};
  } catch {
    return {};
  }
}

/**
 * Runs one OS process per replica, restarts any that exits (with backoff), and stops them all
 * on request: SIGTERM, a bounded wait, then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { IllegalStateError } from './errors';
import type { LauncherLog } from './launcher-log';
import { replicaLabel, type ReplicaSpec } from './plan';
import { RestartBackoff, type RestartBackoffOptions } from './restart-backoff';

/** Lifecycle of a {@link Supervisor}. */
export type SupervisorState = 'idle' | 'running' | 'stopping' | 'stopped';

/** What a {@link Supervisor} runs and how. */
export interface SupervisorOptions {
  readonly replicas: readonly ReplicaSpec[];
  /** The executable, normally `process.execPath`. */
  readonly command: string;
  /** The arguments of one replica's process. */
  readonly argsFor: (spec: ReplicaSpec) => readonly string[];
  readonly cwd: string;
  /** Base environment; each child also gets `SERVICE_REPLICA` (1-based). */
  readonly env: NodeJS.ProcessEnv;
  /** Variables of one replica's process on top of `env`, e.g. its NODE_OPTIONS. */
  readonly envFor?: (spec: ReplicaSpec) => NodeJS.ProcessEnv;
  readonly log: LauncherLog;
  /** Called with every new child (first start and restarts), e.g. to read its output. */
  readonly onSpawn?: (child: ChildProcess, label: string) => void;
  readonly backoff?: RestartBackoffOptions;
  /** @default Date.now */
  readonly now?: () => number;
}

/** How a stop ended. */
export interface StopResult {
  /** Labels of the replicas that had to be SIGKILLed, e.g. `['gateway#1']`. */
  readonly killed: readonly string[];
}

/** How long to wait for SIGKILLed children to be reaped before giving up. @default 5000 ms */
export const KILL_WAIT_MS = 5_000;

interface Slot {
  readonly spec: ReplicaSpec;
  readonly label: string;
  readonly backoff: RestartBackoff;
  child: ChildProcess | undefined;
  startedAtMs: number;
  restartTimer: NodeJS.Timeout | undefined;
}

/**
 * Supervises the replicas given in its options.
 *
 * Children are spawned in their own process group (`detached`), so a Ctrl-C in the terminal
 * reaches them only through the launcher, as one SIGTERM each, and SIGKILL also takes down any
 * process a service started itself.
 */
export class Supervisor {
  private currentState: SupervisorState = 'idle';
  private readonly slots: readonly Slot[];
  private readonly now: () => number;
  private readonly killed = new Set<string>();
  private exitWaiters: (() => void)[] = [];
  private stopping: Promise<StopResult> | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.now = options.now ?? Date.now;
    this.slots = options.replicas.map((spec) => ({
      spec,
      label: replicaLabel(spec),
      backoff: new RestartBackoff(options.backoff),
      child: undefined,
      startedAtMs: 0,
      restartTimer: undefined,
    }));
  }

  /** The current lifecycle state. */
  get state(): SupervisorState {
    return this.currentState;
  }

  /** Process ids of the children alive now, by label. */
  get pids(): ReadonlyMap<string, number> {
    const pids = new Map<string, number>();
    for (const slot of this.slots) {
      if (slot.child?.pid !== undefined) pids.set(slot.label, slot.child.pid);
    }
    return pids;
  }

  /**
   * Spawns every replica, in order.
   *
   * @throws IllegalStateError unless the supervisor is `idle`.
   */
  start(): void {
    if (this.currentState !== 'idle') {
      throw new IllegalStateError(
        this.currentState,
        `Supervisor.start() needs state idle (state is ${this.currentState})`,
      );
    }
    this.currentState = 'running';
    for (const slot of this.slots) this.spawnSlot(slot);
  }

  /**
   * Stops supervising: cancels pending restarts, sends SIGTERM to every child, waits up to
   * `graceMs` for all to exit, then SIGKILLs the rest. Idempotent: later calls return the first
   * call's promise. Never rejects.
   */
  stop(graceMs: number): Promise<StopResult> {
    this.stopping ??= this.runStop(graceMs);
    return this.stopping;
  }

  /**
   * SIGKILLs every child now (a second Ctrl-C). Starts a stop first if none is under way;
   * returns the stop's promise.
   */
  kill(): Promise<StopResult> {
    const stopped = this.stop(0);
    this.killRemaining();
    return stopped;
  }

  /**
   * SIGKILLs every child synchronously, without waiting; for `process.on('exit')`, so that no
   * child outlives a launcher that dies unexpectedly.
   */
  killRemaining(): void {
    for (const slot of this.slots) {
      if (slot.child === undefined) continue;
      this.killed.add(slot.label);
      this.signal(slot, 'SIGKILL', true);
    }
  }

  private async runStop(graceMs: number): Promise<StopResult> {
    if (this.currentState === 'idle') {
      this.currentState = 'stopped';
      return { killed: [] };
    }
    this.currentState = 'stopping';
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
    for (const slot of this.slots) this.signal(slot, 'SIGTERM', false);

    const allExited = this.whenAllExited();
    if ((await within(allExited, graceMs)) === 'timeout') {
      this.options.log.warn('grace period over, killing the rest', { graceMs });
      this.killRemaining();
      if ((await within(allExited, KILL_WAIT_MS)) === 'timeout') {
        this.options.log.error('children still alive after SIGKILL', {
          replicas: [...this.pids.keys()].join(','),
        });
      }
    }
    this.currentState = 'stopped';
    return { killed: [...this.killed] };
  }

  private spawnSlot(slot: Slot): void {
    const { spec, label } = slot;
    const child = spawn(this.options.command, [...this.options.argsFor(spec)], {
      cwd: this.options.cwd,
      env: {
        ...this.options.env,
        ...this.options.envFor?.(spec),
        SERVICE_REPLICA: String(spec.replica),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    slot.child = child;
    slot.startedAtMs = this.now();

    let gone = false;
    const onGone = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (gone) return;
      gone = true;
      this.onExit(slot, child, code, signal, error);
    };
    child.once('exit', (code, signal) => onGone(code, signal));
    child.on('error', (err) => {
      // 'error' without a pid means the spawn itself failed, and 'exit' may never come.
      if (child.pid === undefined) onGone(null, null, err);
      else this.options.log.warn('signalling a child failed', { replica: label, err: err.message });
    });
    this.options.onSpawn?.(child, label);
    if (child.pid !== undefined) {
      this.options.log.info('started', { replica: label, childPid: child.pid });
    }
  }

  private onExit(
    slot: Slot,
    child: ChildProcess,
    code: number | null,
    signal: NodeJS.Signals | null,
    error: Error | undefined,
  ): void {
    if (slot.child === child) slot.child = undefined;
    const uptimeMs = this.now() - slot.startedAtMs;
    if (this.currentState === 'running') {
      const restartInMs = slot.backoff.next(uptimeMs);
      this.options.log.warn('exited, restarting', {
        replica: slot.label,
        code: code ?? undefined,
        signal: signal ?? undefined,
        uptimeMs,
        restartInMs,
        err: error?.message,
      });
      slot.restartTimer = setTimeout(() => {
        slot.restartTimer = undefined;
        if (this.currentState === 'running') this.spawnSlot(slot);
      }, restartInMs);
      return;
    }
    this.options.log.info('stopped', {
      replica: slot.label,
      code: code ?? undefined,
      signal: signal ?? undefined,
    });
    if (this.slots.every((s) => s.child === undefined)) {
      const waiters = this.exitWaiters;
      this.exitWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private whenAllExited(): Promise<void> {
    if (this.slots.every((slot) => slot.child === undefined)) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private signal(slot: Slot, signal: NodeJS.Signals, wholeGroup: boolean): void {
    const pid = slot.child?.pid;
    if (pid === undefined) return;
    try {
      // The child leads its own process group (detached), so -pid addresses the group.
      process.kill(wholeGroup ? -pid : pid, signal);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ESRCH') {
        this.options.log.warn('signalling a child failed', { replica: slot.label, signal, code });
      }
    }
  }
}

async function within(promise: Promise<void>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

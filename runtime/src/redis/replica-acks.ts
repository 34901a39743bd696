/**
 * Replication in Redis is asynchronous: a write the master answered may die with it at a
 * failover. `WAIT <replicas> <timeout>` after a write tells how many replicas have every write
 * of this connection so far; a caller that must not lose a write answers (or acks) only after
 * enough of them have it.
 *
 * A WAIT answered on another connection than the write's (ioredis resends unanswered commands
 * after a reconnect, possibly to a promoted replica) says nothing about that write, so a
 * reconnect between the two counts as not replicated.
 */
import { StoreUnavailableError } from '../errors';
import type { Redis } from './redis-client';

export interface ReplicaAckOptions {
  /** Replicas each write must reach; 0: no WAIT at all (a single server). */
  readonly replicas: number;
  readonly timeoutMs: number;
}

export class ReplicaAcks {
  /** Counts the client's closed connections. */
  private connections = 0;

  constructor(
    redis: Redis,
    readonly options: ReplicaAckOptions,
  ) {
    redis.on('close', () => {
      this.connections += 1;
    });
  }

  get enabled(): boolean {
    return this.options.replicas > 0;
  }

  /** Marks the connection a write goes out on; pass it to `check` with WAIT's reply. */
  mark(): number {
    return this.connections;
  }

  /** The WAIT command's arguments. */
  waitArgs(): [number, number] {
    return [this.options.replicas, this.options.timeoutMs];
  }

  /** @throws StoreUnavailableError unless enough replicas have the writes since `mark`. */
  check(mark: number, acked: unknown): void {
    if (mark !== this.connections) {
      throw new StoreUnavailableError(
        'the Redis connection was lost before the write was known to reach a replica',
      );
    }
    const count = typeof acked === 'number' ? acked : Number(acked);
    if (!(count >= this.options.replicas)) {
      throw new StoreUnavailableError(
        `the write reached ${count} of ${this.options.replicas} Redis replicas within ${this.options.timeoutMs} ms`,
      );
    }
  }

  /** WAITs for the writes this client already sent (a separate round trip). */
  async confirm(mark: number, redis: Redis): Promise<void> {
    if (!this.enabled) return;
    const [replicas, timeoutMs] = this.waitArgs();
    this.check(mark, await redis.wait(replicas, timeoutMs));
  }
}

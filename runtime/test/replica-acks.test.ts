/**
 * What a WAIT reply proves: enough replicas, on the connection the write went out on. A reply
 * after a reconnect (ioredis resends unanswered commands, maybe to a promoted replica) proves
 * nothing about the write, so it counts as not replicated.
 */
import { EventEmitter } from 'node:events';
import { errorCode } from '../src/errors';
import type { Redis } from '../src/redis/redis-client';
import { ReplicaAcks } from '../src/redis/replica-acks';

const fakeClient = (): Redis => new EventEmitter() as unknown as Redis;

function thrown(fn: () => void): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('ReplicaAcks.check', () => {
  it('passes when WAIT counted enough replicas on the same connection', () => {
    const acks = new ReplicaAcks(fakeClient(), { replicas: 2, timeoutMs: 100 });
    expect(() => acks.check(acks.mark(), 2)).not.toThrow();
    expect(() => acks.check(acks.mark(), 3)).not.toThrow();
  });

  it('fails with STORE_UNAVAILABLE when fewer replicas acked', () => {
    const acks = new ReplicaAcks(fakeClient(), { replicas: 2, timeoutMs: 100 });
    const err = thrown(() => acks.check(acks.mark(), 1));
    expect(errorCode(err)).toBe('STORE_UNAVAILABLE');
    expect(err.message).toBe('the write reached 1 of 2 Redis replicas within 100 ms');
  });

  it('fails when the connection closed between the write and the WAIT reply', () => {
    const client = fakeClient();
    const acks = new ReplicaAcks(client, { replicas: 1, timeoutMs: 100 });
    const mark = acks.mark();
    (client as unknown as EventEmitter).emit('close');
    const err = thrown(() => acks.check(mark, 1));
    expect(errorCode(err)).toBe('STORE_UNAVAILABLE');
    expect(err.message).toContain('connection was lost');
    // A write that starts after the reconnect is judged on its own.
    expect(() => acks.check(acks.mark(), 1)).not.toThrow();
  });

  it('is off with 0 replicas', () => {
    expect(new ReplicaAcks(fakeClient(), { replicas: 0, timeoutMs: 100 }).enabled).toBe(false);
  });
});

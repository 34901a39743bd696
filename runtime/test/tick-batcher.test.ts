import { TickBatcher } from '../src/redis/tick-batcher';

describe('TickBatcher', () => {
  const recording = (): { sent: number[][]; batcher: TickBatcher<number, string> } => {
    const sent: number[][] = [];
    const batcher = new TickBatcher<number, string>(
      (items) => {
        sent.push([...items]);
        return Promise.resolve(items.map((n) => `answer ${n}`));
      },
      (flush) => setImmediate(flush),
    );
    return { sent, batcher };
  };

  it('sends the calls of one turn together, in order, and answers each its own', async () => {
    const { sent, batcher } = recording();
    const answers = await Promise.all([1, 2, 3].map((n) => batcher.call(n)));
    expect(sent).toEqual([[1, 2, 3]]);
    expect(answers).toEqual(['answer 1', 'answer 2', 'answer 3']);
  });

  it('sends the calls of a later turn separately', async () => {
    const { sent, batcher } = recording();
    await batcher.call(1);
    await Promise.all([batcher.call(2), batcher.call(3)]);
    expect(sent).toEqual([[1], [2, 3]]);
  });

  it('rejects every call of a failed round trip, also when sending throws at once', async () => {
    const failure = new Error('redis down');
    const rejecting = new TickBatcher<number, string>(
      () => Promise.reject(failure),
      queueMicrotask,
    );
    const results = await Promise.allSettled([rejecting.call(1), rejecting.call(2)]);
    expect(results).toEqual([
      { status: 'rejected', reason: failure },
      { status: 'rejected', reason: failure },
    ]);
    const throwing = new TickBatcher<number, string>(() => {
      throw failure;
    }, queueMicrotask);
    await expect(throwing.call(1)).rejects.toBe(failure);
  });
});

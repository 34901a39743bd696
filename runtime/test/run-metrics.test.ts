/**
 * The worker's per-run metrics: counted in tallies and bound label sets, they must read the
 * same on a scrape as prom-client counters would, and a second scrape must not count again.
 */
import { metricsRegistry } from '../src/telemetry/metrics';
import { RunMetrics } from '../src/worker/run-metrics';

async function sample(name: string, labels: string): Promise<number | undefined> {
  const text = await metricsRegistry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('RunMetrics', () => {
  it('shows runs started and finished per type and outcome on scrape, each counted once', async () => {
    const metrics = new RunMetrics();
    const process = metrics.of('task.data.process');
    process.started();
    process.started();
    process.finished('succeeded', 0.002);
    process.finished('failed', 0.2);
    metrics.of('task.email.send').started();

    expect(await sample('tasks_worker_tasks_started_total', 'type="task.data.process"')).toBe(2);
    expect(await sample('tasks_worker_tasks_started_total', 'type="task.email.send"')).toBe(1);
    const succeeded = 'type="task.data.process",outcome="succeeded"';
    expect(await sample('tasks_worker_tasks_finished_total', succeeded)).toBe(1);
    expect(await sample('tasks_worker_task_duration_seconds_count', succeeded)).toBe(1);
    expect(
      await sample(
        'tasks_worker_tasks_finished_total',
        'type="task.data.process",outcome="failed"',
      ),
    ).toBe(1);

    // A second scrape adds nothing; later runs add to what was shown.
    expect(await sample('tasks_worker_tasks_started_total', 'type="task.data.process"')).toBe(2);
    metrics.of('task.data.process').started();
    expect(await sample('tasks_worker_tasks_started_total', 'type="task.data.process"')).toBe(3);
  });
});

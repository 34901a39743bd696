/**
 * A worker's per-run metrics with their label sets resolved once per task type and outcome:
 * the counters are plain tallies added on scrape, the duration histogram is bound to its
 * labels. The metrics themselves (names, labels) are the same as before.
 */
import { Metrics, type TallyCell } from '../telemetry/metrics';

interface OutcomeMetrics {
  readonly finished: TallyCell;
  readonly duration: { observe(seconds: number): void };
}

/** One task type's metrics. */
export class TypeRunMetrics {
  private readonly startedCell: TallyCell;
  private readonly byOutcome = new Map<string, OutcomeMetrics>();

  constructor(private readonly type: string) {
    this.startedCell = Metrics.tasksStartedTally().cell({ type });
  }

  started(): void {
    this.startedCell.n += 1;
  }

  finished(outcome: string, seconds: number): void {
    let metrics = this.byOutcome.get(outcome);
    if (!metrics) {
      const labels = { type: this.type, outcome };
      metrics = {
        finished: Metrics.tasksFinishedTally().cell(labels),
        duration: Metrics.taskDurationSeconds().labels(labels),
      };
      this.byOutcome.set(outcome, metrics);
    }
    metrics.finished.n += 1;
    metrics.duration.observe(seconds);
  }
}

/** The metrics of every task type a worker ran, made on first use. */
export class RunMetrics {
  private readonly byType = new Map<string, TypeRunMetrics>();

  of(type: string): TypeRunMetrics {
    let metrics = this.byType.get(type);
    if (!metrics) {
      metrics = new TypeRunMetrics(type);
      this.byType.set(type, metrics);
    }
    return metrics;
  }
}

/**
 * Publishes commands: straight to the `tasks` exchange, or through the delay levels when they
 * must wait (countdown, eta, retry backoff). Every command is persistent, has its task id as
 * message id, is published `mandatory` (one no queue takes, a missing delay level included, is
 * refused instead of confirmed and dropped) and is confirmed before the promise resolves.
 */
import {
  brokerPriority,
  type CommandEnvelope,
  type DelayOptions,
  delayRoutingKey,
  delayUnits,
  taskTypeByRoutingKey,
  type TopologyNames,
} from '@tasks/contracts';
import { PermanentError } from '../errors';
import { TaskAttributes } from '../telemetry/attributes';
import { fitsInBatch } from './command-batch';
import { CommandBatcher } from './command-batcher';
import type { ConfirmPublisher } from './confirm-publisher';
import { MessageHeaders } from './message-headers';

export interface CommandMeta {
  readonly taskId: string;
  /** The command routing key, e.g. `task.email.send`. */
  readonly type: string;
  /** API priority 0-9. */
  readonly priority: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** Wait before delivery; 0 or absent publishes straight to the work exchange. */
  readonly delayMs?: number;
  /** Extra headers (trace context, correlation, parking history). */
  readonly headers?: Readonly<Record<string, unknown>>;
  readonly failFast?: boolean;
}

export interface CommandPublisherOptions {
  /**
   * Commands published straight to the work exchange in one turn of the event loop may share
   * a message, up to this many (COMMAND_BATCH_MAX); 1 (default): one message each.
   */
  readonly batchMax?: number;
}

export class CommandPublisher {
  private readonly batcher: CommandBatcher | undefined;

  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly names: TopologyNames,
    private readonly delay: DelayOptions,
    options: CommandPublisherOptions = {},
  ) {
    const batchMax = options.batchMax ?? 1;
    this.batcher =
      batchMax > 1
        ? new CommandBatcher(
            publisher,
            batchMax,
            (routingKey) => taskTypeByRoutingKey(routingKey)?.commandBatchMax,
          )
        : undefined;
  }

  /** Serialises and publishes a command envelope. */
  publish(
    command: CommandEnvelope,
    meta: Omit<CommandMeta, 'taskId' | 'type' | 'priority'>,
  ): Promise<void> {
    return this.publishContent(Buffer.from(JSON.stringify(command)), {
      ...meta,
      taskId: command.task_id,
      type: command.type,
      priority: command.priority,
    });
  }

  /**
   * Publishes an already serialised command (a retry re-sends the bytes it received).
   *
   * @throws PermanentError for a task type no service consumes
   */
  async publishContent(content: Buffer, meta: CommandMeta): Promise<void> {
    const spec = taskTypeByRoutingKey(meta.type);
    if (!spec) throw new PermanentError(`no service consumes task type "${meta.type}"`);
    const units = delayUnits(meta.delayMs ?? 0, this.delay);
    // The lane of its priority (quorum mode); classic queues have one lane per service.
    const lane = this.names.commandRoute(meta.type, spec.service, meta.priority);
    const [exchange, routingKey] =
      units > 0
        ? [
            this.names.delayEntryExchange(this.delay.levels),
            delayRoutingKey(units, lane.queue, this.delay),
          ]
        : [this.names.tasksExchange, lane.routingKey];
    // Delayed commands go alone: each visits its own delay levels.
    const batcher = units === 0 && fitsInBatch(content) ? this.batcher : undefined;
    await (batcher ?? this.publisher).publish(exchange, routingKey, content, {
      messageId: meta.taskId,
      type: meta.type,
      priority: brokerPriority(meta.priority),
      headers: { ...withoutDeathHistory(meta.headers), [MessageHeaders.attempt]: meta.attempt },
      mandatory: true,
      failFast: meta.failFast,
      trace: {
        attributes: {
          [TaskAttributes.id]: meta.taskId,
          [TaskAttributes.type]: meta.type,
          [TaskAttributes.attempt]: meta.attempt,
        },
      },
    });
  }
}

/**
 * The headers without the broker's dead-letter history (`x-death`, `x-first-death-*`,
 * `x-last-death-*`). A retried command re-sends the headers it was delivered with; if they still
 * said it had expired from a delay level before, RabbitMQ would take its next pass through that
 * level for a dead-letter cycle and drop the message silently.
 */
function withoutDeathHistory(
  headers: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(
      ([key]) =>
        key !== 'x-death' && !key.startsWith('x-first-death-') && !key.startsWith('x-last-death-'),
    ),
  );
}

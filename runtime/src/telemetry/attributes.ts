/**
 * Span attribute keys, in one place. Ours are prefixed `task.`; the messaging
 * ones are OTel semantic conventions, copied here because they are still incubating in
 * `@opentelemetry/semantic-conventions` (1.45: `/incubating` entry point), which may rename them
 * in a minor release. Values checked against that version.
 */

/** The platform's own attributes. */
export const TaskAttributes = {
  /** The task id (UUID), as in the API and the logs' `task_id`. */
  id: 'task.id',
  /** The command routing key, e.g. `task.data.process`. */
  type: 'task.type',
  /** 1-based attempt; 0 for the PENDING event before any attempt. */
  attempt: 'task.attempt',
  /** The state an event carries (`PROGRESS`, `SUCCESS`, …). */
  state: 'task.state',
  /** How a run ended: `succeeded`, `failed`, `retried`, `revoked`, `deferred`, `requeued`, `parked`. */
  outcome: 'task.outcome',
  /** Events a status-store delivery applied (several for a `task.batch` message). */
  eventCount: 'task.event_count',
} as const;

/** OTel messaging semantic conventions (incubating, semconv 1.45). */
export const MessagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destinationName: 'messaging.destination.name',
  rabbitmqRoutingKey: 'messaging.rabbitmq.destination.routing_key',
  rabbitmqDeliveryTag: 'messaging.rabbitmq.message.delivery_tag',
  messageId: 'messaging.message.id',
  messageBodySize: 'messaging.message.body.size',
  batchMessageCount: 'messaging.batch.message_count',
} as const;

/** Values of {@link MessagingAttributes}. */
export const MessagingValues = {
  systemRabbitmq: 'rabbitmq',
  operationSend: 'send',
  operationProcess: 'process',
} as const;

/**
 * Priority lanes of the quorum mode. Quorum queues have no message priorities on RabbitMQ
 * 3.10-3.13 (and only two levels on 4.x), so with `WORK_QUEUE_TYPE=quorum` each worker service
 * gets two queues: its work queue (the normal lane) and `<work queue>.high`, where commands of
 * API priority HIGH_LANE_MIN_PRIORITY and above go. A worker consumes both and starts what the
 * high lane hands it before anything of the normal lane that waits for a slot. Within a lane,
 * commands run in arrival order. Classic queues keep their broker priorities and have no lanes.
 */
import type { WorkQueueType } from './topology';

/** API priorities from here to 9 take the high lane in quorum mode. */
export const HIGH_LANE_MIN_PRIORITY = 5;

/** Last word of every routing key that reaches a high lane (the direct key and the delay key). */
export const HIGH_LANE_SUFFIX = 'high';

export type WorkLane = 'normal' | 'high';

/** The lane of a command of API priority `apiPriority` under `queueType`. */
export function laneOf(queueType: WorkQueueType, apiPriority: number): WorkLane {
  return queueType === 'quorum' && apiPriority >= HIGH_LANE_MIN_PRIORITY ? 'high' : 'normal';
}

/** The routing key a command of type `type` is published with to the tasks exchange. */
export function laneRoutingKey(type: string, lane: WorkLane): string {
  return lane === 'high' ? `${type}.${HIGH_LANE_SUFFIX}` : type;
}

/** True for a delivery that came through a high lane (its routing key says so). */
export function isHighLaneKey(routingKey: string): boolean {
  return routingKey.endsWith(`.${HIGH_LANE_SUFFIX}`);
}

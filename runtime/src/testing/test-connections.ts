import { AmqpConnection } from '../amqp/amqp-connection';
import { ConfirmPublisher } from '../amqp/confirm-publisher';
import type { Logger } from '../logging/logger';
import { silentLog } from './silent-log';
import type { TestNamespace } from './test-namespace';

export interface TestConnectionsOptions<P extends ConfirmPublisher = ConfirmPublisher> {
  /** Names the two connections `<name>.consume` and `<name>.publish`. */
  readonly name: string;
  /** @default the namespace's broker */
  readonly amqpUrl?: string;
  /** @default 5 */
  readonly heartbeatS?: number;
  /** @default 5000 */
  readonly publishTimeoutMs?: number;
  /** @default 'test' */
  readonly appId?: string;
  /** @default silentLog */
  readonly log?: Logger;
  /** Builds the publisher on the publishing connection (a test's recording subclass). */
  readonly publisher?: (connection: AmqpConnection) => P;
}

/**
 * A service's two broker connections as the services open them (one to consume, one to
 * publish, so an alarm that blocks publishing does not block acks) and its confirm publisher,
 * ready to publish.
 */
export class TestConnections<P extends ConfirmPublisher = ConfirmPublisher> {
  private constructor(
    readonly consume: AmqpConnection,
    readonly publish: AmqpConnection,
    readonly publisher: P,
  ) {}

  static async open<P extends ConfirmPublisher = ConfirmPublisher>(
    ns: TestNamespace,
    options: TestConnectionsOptions<P>,
  ): Promise<TestConnections<P>> {
    const log = options.log ?? silentLog;
    const connect = (role: string): AmqpConnection =>
      new AmqpConnection({
        url: options.amqpUrl ?? ns.amqpUrl,
        name: `${options.name}.${role}`,
        heartbeatS: options.heartbeatS ?? 5,
        log,
      });
    const consume = connect('consume');
    const publish = connect('publish');
    const publisher =
      options.publisher?.(publish) ??
      // Without a builder P is its default, ConfirmPublisher.
      (new ConfirmPublisher(publish, {
        publishTimeoutMs: options.publishTimeoutMs ?? 5000,
        appId: options.appId ?? 'test',
        log,
      }) as P);
    await publisher.waitForReady();
    return new TestConnections(consume, publish, publisher);
  }

  async close(): Promise<void> {
    await this.publisher.close();
    await Promise.all([this.consume.close(), this.publish.close()]);
  }
}

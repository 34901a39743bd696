import { AmqpConnection } from '../amqp/amqp-connection';
import { ConfirmPublisher } from '../amqp/confirm-publisher';
import type { Logger } from '../logging/logger';
import { silentLog } from './silent-log';
import type { TestNamespace } from './test-namespace';

export interface TestPublisherOptions {
  /** Names the connection `<name>.publish`. */
  readonly name: string;
  /** @default 'test' */
  readonly appId?: string;
  /** @default silentLog */
  readonly log?: Logger;
  /** Exchanges published `mandatory` (the command exchanges), as the publisher takes them. */
  readonly mandatoryExchanges?: readonly string[];
}

/**
 * A producer's one publishing connection (a gateway's, a revoker's) on a test namespace and its
 * confirm publisher, ready to publish. The connection declares the namespace's topology on
 * every connect, as a producer's does, so a test may delete part of it and see it come back.
 */
export class TestPublisher {
  private constructor(
    readonly connection: AmqpConnection,
    readonly publisher: ConfirmPublisher,
  ) {}

  static async open(ns: TestNamespace, options: TestPublisherOptions): Promise<TestPublisher> {
    const log = options.log ?? silentLog;
    const connection = new AmqpConnection({
      url: ns.amqpUrl,
      name: `${options.name}.publish`,
      heartbeatS: 5,
      log,
      topology: ns.topology,
    });
    const publisher = new ConfirmPublisher(connection, {
      publishTimeoutMs: 5000,
      appId: options.appId ?? 'test',
      log,
      mandatoryExchanges: options.mandatoryExchanges,
    });
    await publisher.waitForReady();
    return new TestPublisher(connection, publisher);
  }

  async close(): Promise<void> {
    await this.publisher.close();
    await this.connection.close();
  }
}

/**
 * When `npm start` enables RabbitMQ's management UI, with a fake command runner: nothing here
 * touches a broker's plugins.
 */
import { type CommandRunner, ensureManagementUi, MANAGEMENT_URL } from '../src/management-ui';

const LOCAL = 'amqp://guest:guest@127.0.0.1:5672';

/** A runner that answers `list` with `enabled` and records every call. */
function fakeRunner(enabled: string, fail?: Error): { run: CommandRunner; calls: string[] } {
  const calls: string[] = [];
  const run: CommandRunner = (command, args) => {
    calls.push([command, ...args].join(' '));
    if (fail) return Promise.reject(fail);
    return Promise.resolve(args[0] === 'list' ? enabled : '');
  };
  return { run, calls };
}

describe('ensureManagementUi', () => {
  it('binds the UI to loopback, then enables the plugin', async () => {
    const { run, calls } = fakeRunner('rabbitmq_prometheus\n');
    const outcome = await ensureManagementUi({ amqpUrl: LOCAL, env: {}, isRoot: true, run });
    expect(outcome).toEqual({ kind: 'enabled', url: MANAGEMENT_URL });
    expect(calls).toEqual([
      'rabbitmq-plugins list -E -m -q',
      'rabbitmqctl eval application:set_env(rabbitmq_management, tcp_config, [{ip,"127.0.0.1"},{port,15672}]).',
      'rabbitmq-plugins enable rabbitmq_management',
    ]);
  });

  it('changes nothing when the plugin is already on', async () => {
    const { run, calls } = fakeRunner('rabbitmq_management\nrabbitmq_management_agent\n');
    const outcome = await ensureManagementUi({ amqpUrl: LOCAL, env: {}, isRoot: true, run });
    expect(outcome).toEqual({ kind: 'already-enabled', url: MANAGEMENT_URL });
    expect(calls).toHaveLength(1);
  });

  it.each([
    [
      'a remote broker',
      'amqp://u:p@rabbit.internal:5672',
      {},
      true,
      'the broker is not on this machine',
    ],
    ['a user who is not root', LOCAL, {}, false, 'rabbitmq-plugins needs root'],
    [
      'LAUNCHER_MANAGEMENT_UI=off',
      LOCAL,
      { LAUNCHER_MANAGEMENT_UI: 'off' },
      true,
      'turned off by LAUNCHER_MANAGEMENT_UI',
    ],
  ])('skips %s without running anything', async (_case, amqpUrl, env, isRoot, reason) => {
    const { run, calls } = fakeRunner('');
    const outcome = await ensureManagementUi({ amqpUrl, env, isRoot, run });
    expect(outcome).toMatchObject({ kind: 'skipped', reason });
    expect(calls).toEqual([]);
  });

  it('skips when the RabbitMQ CLI is not installed, and reports other failures with a hint', async () => {
    const missing = Object.assign(new Error('spawn rabbitmq-plugins ENOENT'), { code: 'ENOENT' });
    expect(
      await ensureManagementUi({
        amqpUrl: LOCAL,
        env: {},
        isRoot: true,
        run: fakeRunner('', missing).run,
      }),
    ).toMatchObject({ kind: 'skipped' });
    const broken = new Error('Error: unable to perform an operation on node');
    expect(
      await ensureManagementUi({
        amqpUrl: LOCAL,
        env: {},
        isRoot: true,
        run: fakeRunner('', broken).run,
      }),
    ).toMatchObject({
      kind: 'failed',
      reason: 'Error: unable to perform an operation on node',
      hint: expect.stringContaining('rabbitmq-plugins enable rabbitmq_management'),
    });
  });
});

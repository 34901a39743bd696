/**
 * `npm start` turns on RabbitMQ's management UI when it can: the broker runs on this machine and
 * the launcher runs as root (rabbitmq-plugins needs it). The UI is bound to 127.0.0.1 first
 * (left alone, the plugin listens on every interface). Anything else is skipped with the reason
 * and the command to run by hand; a failure never stops the launcher. Tests never run this
 * (no test starts the launcher); `LAUNCHER_MANAGEMENT_UI=off` turns it off.
 */
import { execFile } from 'node:child_process';

/** Runs a command; resolves with its stdout, rejects with its error (`code` ENOENT if absent). */
export type CommandRunner = (command: string, args: readonly string[]) => Promise<string>;

export interface ManagementUiOptions {
  readonly amqpUrl: string;
  readonly env: NodeJS.ProcessEnv;
  /** @default process.getuid() === 0 */
  readonly isRoot?: boolean;
  readonly run?: CommandRunner;
}

export type ManagementUiOutcome =
  | { readonly kind: 'enabled' | 'already-enabled'; readonly url: string }
  | { readonly kind: 'skipped' | 'failed'; readonly reason: string; readonly hint?: string };

export const MANAGEMENT_PORT = 15672;
export const MANAGEMENT_URL = `http://127.0.0.1:${MANAGEMENT_PORT}`;
const PLUGIN = 'rabbitmq_management';
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const HINT = `rabbitmqctl eval 'application:set_env(rabbitmq_management, tcp_config, [{ip,"127.0.0.1"},{port,${MANAGEMENT_PORT}}]).' && rabbitmq-plugins enable ${PLUGIN}`;

/** Enables the plugin when it can; never rejects. */
export async function ensureManagementUi(
  options: ManagementUiOptions,
): Promise<ManagementUiOutcome> {
  const setting = options.env.LAUNCHER_MANAGEMENT_UI?.trim().toLowerCase();
  if (setting && ['off', 'false', '0', 'no'].includes(setting)) {
    return { kind: 'skipped', reason: 'turned off by LAUNCHER_MANAGEMENT_UI' };
  }
  if (options.amqpUrl.includes(',')) {
    return { kind: 'skipped', reason: 'AMQP_URL names a cluster: enable the UI on its nodes' };
  }
  let host: string;
  try {
    host = new URL(options.amqpUrl).hostname;
  } catch {
    return { kind: 'skipped', reason: 'AMQP_URL is not a URL' };
  }
  if (!LOCAL_HOSTS.has(host)) {
    return { kind: 'skipped', reason: 'the broker is not on this machine' };
  }
  const isRoot = options.isRoot ?? process.getuid?.() === 0;
  if (!isRoot) {
    return { kind: 'skipped', reason: 'rabbitmq-plugins needs root', hint: `sudo sh -c '${HINT}'` };
  }
  const run = options.run ?? execute;
  try {
    const enabled = await run('rabbitmq-plugins', ['list', '-E', '-m', '-q']);
    if (enabled.split(/\s+/).includes(PLUGIN))
      return { kind: 'already-enabled', url: MANAGEMENT_URL };
    // Loopback first: enabled as is, the UI would listen on every interface.
    await run('rabbitmqctl', [
      'eval',
      `application:set_env(rabbitmq_management, tcp_config, [{ip,"127.0.0.1"},{port,${MANAGEMENT_PORT}}]).`,
    ]);
    await run('rabbitmq-plugins', ['enable', PLUGIN]);
    return { kind: 'enabled', url: MANAGEMENT_URL };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      return {
        kind: 'skipped',
        reason: 'rabbitmq-plugins is not installed here (broker in a container?)',
      };
    }
    const message = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    return { kind: 'failed', reason: message, hint: HINT };
  }
}

function execute(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, [...args], { timeout: 60_000 }, (err: Error | null, stdout: string) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}

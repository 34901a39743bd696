/**
 * Test helper: a loopback TCP server whose answers a test scripts, and a port nothing listens on.
 */
import * as net from 'node:net';

export interface FakeServer {
  readonly port: number;
  /** Every byte each connection sent, one Buffer per connection. */
  readonly received: Buffer[];
  close(): Promise<void>;
}

/**
 * Listens on 127.0.0.1 (port 0). `onData` gets everything a connection has sent so far and
 * answers through `socket`.
 */
export async function startFakeServer(
  onData: (socket: net.Socket, received: Buffer) => void = () => undefined,
): Promise<FakeServer> {
  const sockets = new Set<net.Socket>();
  const received: Buffer[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const index = received.push(Buffer.alloc(0)) - 1;
    socket.on('data', (chunk: Buffer) => {
      const all = Buffer.concat([received[index] ?? Buffer.alloc(0), chunk]);
      received[index] = all;
      onData(socket, all);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port that was free a moment ago: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

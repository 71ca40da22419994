import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyMode =
  /** Forward bytes both ways. */
  | { kind: 'pass' }
  /** Forward, delaying every chunk by `ms` in each direction. */
  | { kind: 'latency'; ms: number }
  /** Accept connections but forward nothing and answer nothing: a network partition. */
  | { kind: 'blackhole' }
  /** Reset every new connection at once (connection refused, from the client's point of view). */
  | { kind: 'refuse' }
  /**
   * Forward the client's bytes, swallow the answer: the server does the work and replies into the void,
   * as when a connection is cut between the server's commit and its response.
   */
  | { kind: 'drop-responses' };

/**
 * RST a socket, or plainly destroy it when its writable side is already ending. Node cannot reset a
 * socket with a shutdown (FIN) under way: libuv's uv_tcp_close_reset refuses with EINVAL, Node emits
 * that as an 'error' (which the proxy ignores) and never closes the native handle, so the process
 * cannot exit: at exit it spins at 100 % CPU in Environment::CleanupHandles waiting for that handle.
 * That is what kept jest from exiting after tcp-proxy.int.spec.ts (a Redis client had just sent its
 * FIN when the proxy was stopped).
 */
function reset(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded) socket.destroy();
  else socket.resetAndDestroy();
}

/**
 * A TCP proxy placed between a service and PostgreSQL, Redis or Kafka, steered by the test: add latency,
 * reset live connections, black-hole traffic, refuse new connections. Real sockets, real protocols.
 */
export class TcpProxy {
  private server?: Server;
  private mode: ProxyMode = { kind: 'pass' };
  private readonly pairs = new Set<[Socket, Socket | undefined]>();
  private acceptedCount = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** For Kafka, which advertises its own address, proxying needs a broker listener of its own. */
  static forUrl(url: string): TcpProxy {
    const u = new URL(url.includes('://') ? url : `tcp://${url}`);
    return new TcpProxy(u.hostname, Number(u.port));
  }

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  /** The same URL with the proxy's address in place of the target's. */
  rewrite(url: string): string {
    return url.replace(`${this.targetHost}:${this.targetPort}`, `127.0.0.1:${this.port}`);
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
  }

  /** Resets (RST) every live connection, as a crashed middlebox or a killed peer would. */
  resetAll(): void {
    for (const [client, upstream] of this.pairs) {
      reset(client);
      if (upstream) reset(upstream);
    }
    this.pairs.clear();
  }

  get connections(): number {
    return this.pairs.size;
  }

  /** Connections accepted so far, in any mode (a client reconnecting in a hot loop shows here). */
  get accepted(): number {
    return this.acceptedCount;
  }

  private accept(client: Socket): void {
    this.acceptedCount++;
    if (this.mode.kind === 'refuse') {
      reset(client);
      return;
    }
    client.on('error', () => undefined);
    const pair: [Socket, Socket | undefined] = [client, undefined];
    this.pairs.add(pair);
    const forget = () => this.pairs.delete(pair);
    client.on('close', forget);
    if (this.mode.kind === 'blackhole') return; // Hold the connection open, say nothing.

    const upstream = connect(this.targetPort, this.targetHost);
    pair[1] = upstream;
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      client.destroy();
      forget();
    });
    client.on('close', () => upstream.destroy());
    this.pipe(client, upstream, false);
    this.pipe(upstream, client, true);
  }

  private pipe(from: Socket, to: Socket, response: boolean): void {
    from.on('data', (chunk) => {
      const mode = this.mode;
      if (mode.kind === 'blackhole') return;
      if (mode.kind === 'drop-responses' && response) return;
      if (mode.kind === 'latency') {
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, mode.ms);
      } else if (!to.destroyed) {
        to.write(chunk);
      }
    });
  }

  async stop(): Promise<void> {
    this.resetAll();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

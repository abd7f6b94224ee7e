import { connect, Socket } from 'node:net';

/**
 * A bare TCP peer that speaks Nest's framing (`<length>#<json>`) without any
 * Nest code, to send services packets that the gateway would never send.
 */
export class RawTcpPeer {
  private readonly responses = new Map<
    string,
    (packet: Record<string, unknown>) => void
  >();
  private buffer = '';
  private nextId = 0;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
  }

  static open(port: number): Promise<RawTcpPeer> {
    return new Promise((resolvePeer, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        resolvePeer(new RawTcpPeer(socket)),
      );
      socket.once('error', reject);
    });
  }

  /** Sends a request packet; `extra` fields are added at the top level, beside `pattern` and `data`. */
  request(
    pattern: string,
    data: unknown,
    extra: Record<string, unknown> = {},
    timeoutMs = 5000,
  ) {
    const id = `raw-${++this.nextId}`;
    const response = new Promise<Record<string, unknown>>(
      (resolveResponse, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`No response to ${pattern} within ${timeoutMs} ms.`),
            ),
          timeoutMs,
        );
        this.responses.set(id, (packet) => {
          clearTimeout(timer);
          resolveResponse(packet);
        });
      },
    );
    this.write({ pattern, data, id, ...extra });
    return response;
  }

  /** Sends an event packet (no id, so no response is expected). */
  emit(
    pattern: string,
    data: unknown,
    extra: Record<string, unknown> = {},
  ): void {
    this.write({ pattern, data, ...extra });
  }

  close(): void {
    this.socket.destroy();
  }

  private write(packet: Record<string, unknown>): void {
    const json = JSON.stringify(packet);
    this.socket.write(`${json.length}#${json}`);
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const hash = this.buffer.indexOf('#');
      if (hash < 0) {
        return;
      }
      const length = Number(this.buffer.slice(0, hash));
      if (this.buffer.length < hash + 1 + length) {
        return;
      }
      const packet = JSON.parse(this.buffer.slice(hash + 1, hash + 1 + length));
      this.buffer = this.buffer.slice(hash + 1 + length);
      this.responses.get(packet.id)?.(packet);
    }
  }
}

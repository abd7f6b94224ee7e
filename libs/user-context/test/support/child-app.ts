import { ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Maximum time, in milliseconds, that an app may take to become ready. */
const START_TIMEOUT_MS = 30_000;

/** Asks the kernel for a port that is free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** A Node.js script run as a child process in a process group of its own. */
export class ChildApp {
  private output = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    script: string,
    options: { cwd: string; env: NodeJS.ProcessEnv },
  ) {
    this.child = spawn(process.execPath, [script], {
      cwd: options.cwd,
      env: options.env,
      // Its own process group, so that stop() ends everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolveExit) =>
      this.child.once('exit', () => resolveExit()),
    );
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        this.output += chunk;
      });
    }
  }

  /** Everything the app wrote to stdout and stderr so far. */
  get log(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Polls `isReady` until it returns true. Throws with the app's output when
   * the app exits first or `START_TIMEOUT_MS` passes.
   */
  async waitUntil(
    description: string,
    isReady: () => Promise<boolean>,
  ): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(
          `${this.name} exited before ${description}. Its output:\n${this.output}`,
        );
      }
      if (await isReady()) {
        return;
      }
      await sleep(100);
    }
    throw new Error(
      `${this.name}: ${description} did not happen within ${START_TIMEOUT_MS} ms. Its output:\n${this.output}`,
    );
  }

  /** Sends SIGTERM to the app's process group, and SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const pid = this.child.pid;
    if (!pid || !this.running) {
      return;
    }
    process.kill(-pid, 'SIGTERM');
    const timer = new AbortController();
    const stopped = await Promise.race([
      this.exited.then(() => true),
      sleep(5000, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!stopped && this.running) {
      process.kill(-pid, 'SIGKILL');
      await this.exited;
    }
  }
}

/** Tells whether something accepts TCP connections on 127.0.0.1:`port`. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolveProbe) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveProbe(true);
    });
    socket.once('error', () => resolveProbe(false));
  });
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** Sends `GET path` to 127.0.0.1:`port`, with a bearer token if one is given. */
export function httpGet(
  port: number,
  path: string,
  token?: string,
): Promise<HttpResponse> {
  return new Promise((resolveResponse, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const outgoing = request(
      { host: '127.0.0.1', port, path, headers },
      (incoming) => {
        let text = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (chunk: string) => {
          text += chunk;
        });
        incoming.on('end', () =>
          resolveResponse({
            status: incoming.statusCode ?? 0,
            headers: incoming.headers,
            body: parseBody(text),
          }),
        );
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** Parses a JSON body, or returns other text unchanged so that a failing check shows it. */
function parseBody(text: string): unknown {
  if (text === '') {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

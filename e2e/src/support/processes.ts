import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const WORKSPACE_ROOT = resolve(__dirname, '../../..');

/** Asks the kernel for a port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') {
          resolvePort(address.port);
        } else {
          reject(new Error('Could not read the port of a probe server.'));
        }
      });
    });
  });
}

/** One app of the platform, run from its build output as a child process. */
export class AppProcess {
  readonly lines: string[] = [];
  private child?: ChildProcess;
  private exit?: Promise<number | null>;

  constructor(
    readonly name: 'gateway' | 'orders' | 'inventory',
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get mainFile(): string {
    return resolve(WORKSPACE_ROOT, 'dist/apps', this.name, 'main.js');
  }

  /** Starts the app and resolves once it logs that it is listening. */
  async start(timeoutMs = 20_000): Promise<void> {
    if (!existsSync(this.mainFile)) {
      throw new Error(
        `${this.mainFile} does not exist: build the apps first (npx nx run-many -t build).`,
      );
    }
    const child = spawn(process.execPath, [this.mainFile], {
      cwd: WORKSPACE_ROOT,
      env: this.env,
      // A process group of its own, so stop() ends everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exit = new Promise((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    this.collect(child);

    await this.waitForLine(/listening on/, timeoutMs);
  }

  /** Resolves with the exit code once the process ends by itself. */
  exitCode(timeoutMs = 20_000): Promise<number | null> {
    if (!this.exit) {
      throw new Error(`${this.name} was never started.`);
    }
    return withTimeout(
      this.exit,
      timeoutMs,
      `${this.name} did not exit within ${timeoutMs} ms`,
    );
  }

  /** Runs the app until it exits and returns its exit code, for start-up failures. */
  async run(timeoutMs = 20_000): Promise<number | null> {
    const child = spawn(process.execPath, [this.mainFile], {
      cwd: WORKSPACE_ROOT,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exit = new Promise((resolveExit) =>
      child.once('exit', (code) => resolveExit(code)),
    );
    this.collect(child);
    return this.exitCode(timeoutMs);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (
      !child ||
      child.exitCode !== null ||
      child.signalCode !== null ||
      !child.pid
    ) {
      return;
    }
    process.kill(-child.pid, 'SIGTERM');
    try {
      await withTimeout(this.exit as Promise<unknown>, 10_000, 'timeout');
    } catch {
      process.kill(-child.pid, 'SIGKILL');
      await this.exit;
    }
  }

  /** Resolves with the first output line, old or new, that matches `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolveLine, reject) => {
      const poll = () => {
        const line = this.lines.find((candidate) => pattern.test(candidate));
        if (line) {
          return resolveLine(line);
        }
        if (
          this.child?.exitCode !== null &&
          this.child?.exitCode !== undefined
        ) {
          return reject(
            new Error(
              `${this.name} exited early:\n${this.lines.slice(-20).join('\n')}`,
            ),
          );
        }
        if (Date.now() > deadline) {
          return reject(
            new Error(
              `${this.name} printed no line matching ${pattern}:\n${this.lines.slice(-20).join('\n')}`,
            ),
          );
        }
        setTimeout(poll, 25);
      };
      poll();
    });
  }

  /** Audit lines printed so far, parsed. */
  auditLines(): Array<Record<string, unknown>> {
    return this.lines
      .filter((line) => line.startsWith('{') && line.includes('"type":"audit"'))
      .map((line) => JSON.parse(line));
  }

  private collect(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        this.lines.push(...parts);
      });
    }
  }
}

function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  message: string,
): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

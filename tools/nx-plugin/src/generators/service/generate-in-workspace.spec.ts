import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const WORKSPACE_ROOT = resolve(__dirname, '../../../../..');
/** Each Nx command may take this long; each took under 10 s on 2 cores. */
const COMMAND_TIMEOUT_MS = 120_000;
/** `nx serve` runs a cached build first, then starts the app. */
const SERVE_TIMEOUT_MS = 60_000;
/** No daemon, cloud or terminal UI: each command runs alone in the copy. */
const NX_ENV = { NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
/** Folders that are rebuilt or linked in the copy, never copied. */
const SKIPPED_FOLDERS = /^(node_modules|dist|\.nx|data|coverage|tmp)(\/|$)/;
/**
 * The service to generate: `payments`, unless the workspace has one by that
 * name already, as it does once a team has generated and committed it.
 */
const NAME = unusedServiceName('payments');
const ENV_PREFIX = NAME.toUpperCase().replace(/-/g, '_');

/** Returns `base`, or `base-2`, `base-3`... when an app or gateway entry has that name. */
function unusedServiceName(base: string): string {
  const services = readFileSync(
    join(WORKSPACE_ROOT, 'apps/gateway/src/services.ts'),
    'utf-8',
  );
  for (let suffix = 1; ; suffix++) {
    const name = suffix === 1 ? base : `${base}-${suffix}`;
    const inUse =
      existsSync(join(WORKSPACE_ROOT, 'apps', name)) ||
      services.includes(`service: '${name}'`);
    if (!inUse) {
      return name;
    }
  }
}

/**
 * Copies the workspace's tracked and untracked files, but not ignored ones,
 * into a temporary folder. Its node_modules links every package of the
 * workspace's own, except the @platform ones, which point at the copy's
 * libs so that its builds use the copy's contracts.
 */
function copyWorkspace(): string {
  const copy = mkdtempSync(join(tmpdir(), 'nx-plugin-service-'));
  const files = execFileSync(
    'git',
    ['ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { cwd: WORKSPACE_ROOT, encoding: 'utf-8' },
  )
    .split('\0')
    .filter((file) => file && !SKIPPED_FOLDERS.test(file));
  for (const file of files) {
    const source = join(WORKSPACE_ROOT, file);
    // Deleted in the working tree but not yet in the index.
    if (!existsSync(source)) {
      continue;
    }
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    copyFileSync(source, join(copy, file));
  }

  const modules = join(WORKSPACE_ROOT, 'node_modules');
  mkdirSync(join(copy, 'node_modules', '@platform'), { recursive: true });
  for (const entry of readdirSync(modules)) {
    if (entry !== '@platform') {
      symlinkSync(join(modules, entry), join(copy, 'node_modules', entry));
    }
  }
  for (const entry of readdirSync(join(modules, '@platform'))) {
    // Relative links such as ../../libs/contracts, so they resolve in the copy.
    symlinkSync(
      readlinkSync(join(modules, '@platform', entry)),
      join(copy, 'node_modules', '@platform', entry),
    );
  }
  return copy;
}

/** Returns this process's environment plus `extra`, without the variables of the outer Nx and Jest run, which would point Nx at this workspace. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('NX_') && !key.startsWith('JEST_')) {
      env[key] = value;
    }
  }
  return { ...env, FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((closed) => server.close(closed));
  return port;
}

jest.setTimeout(COMMAND_TIMEOUT_MS + 10_000);

describe('service generator in a copy of the workspace', () => {
  let copy: string;
  const children = new Set<ChildProcess>();
  const durations: Record<string, number> = {};

  /** Starts a process in a group of its own, which afterAll ends if it still runs. */
  function start(command: string, args: string[], env: NodeJS.ProcessEnv) {
    const child = spawn(command, args, {
      cwd: copy,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream.setEncoding('utf-8');
      stream.on('data', (chunk: string) => lines.push(...chunk.split('\n')));
    }
    children.add(child);
    child.once('exit', () => children.delete(child));
    return { child, lines };
  }

  /** Runs `npx <args>` in the copy; rejects with its last output lines when it fails. */
  async function npx(step: string, args: string[]): Promise<string> {
    const startedAt = Date.now();
    const { child, lines } = start('npx', args, cleanEnv(NX_ENV));
    const timer = setTimeout(() => stopGroup(child), COMMAND_TIMEOUT_MS);
    const [code] = await once(child, 'exit');
    clearTimeout(timer);
    durations[step] = Date.now() - startedAt;
    const output = lines.join('\n');
    if (code !== 0) {
      throw new Error(
        `npx ${args.join(' ')} exited with ${code}:\n${lines.slice(-40).join('\n')}`,
      );
    }
    return output;
  }

  /** Runs `npx nx <target> <project> --outputStyle=static` in the copy. */
  function nx(target: string, project: string): Promise<string> {
    return npx(`${target} ${project}`, [
      'nx',
      target,
      project,
      '--outputStyle=static',
    ]);
  }

  /** Runs `nx serve <app>` and resolves once the app logs that it listens. */
  async function serve(app: string, env: NodeJS.ProcessEnv): Promise<void> {
    const startedAt = Date.now();
    const { child, lines } = start(
      'npx',
      ['nx', 'serve', app],
      cleanEnv({ ...NX_ENV, ...env }),
    );
    const deadline = startedAt + SERVE_TIMEOUT_MS;
    while (!lines.some((line) => line.includes('listening on'))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `nx serve ${app} did not start within ${SERVE_TIMEOUT_MS} ms:\n${lines.slice(-20).join('\n')}`,
        );
      }
      await new Promise((wait) => setTimeout(wait, 50));
    }
    durations[`serve ${app}`] = Date.now() - startedAt;
  }

  function stopGroup(child: ChildProcess): void {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // The group ended between the check and the signal.
      }
    }
  }

  beforeAll(() => {
    copy = copyWorkspace();
  });

  afterAll(async () => {
    const running = [...children];
    for (const child of running) {
      stopGroup(child);
    }
    await Promise.all(running.map((child) => once(child, 'exit')));
    if (copy) {
      rmSync(copy, { recursive: true, force: true });
    }
    console.info(
      `Steps in milliseconds: ${Object.entries(durations)
        .map(([step, ms]) => `${step} ${ms}`)
        .join(', ')}`,
    );
  });

  it(`generates ${NAME} with one command`, async () => {
    const output = await npx('generate', [
      'nx',
      'g',
      '@platform/nx-plugin:service',
      `${NAME}`,
      '--no-interactive',
    ]);

    expect(output).toContain(`CREATE apps/${NAME}/project.json`);
    expect(output).toContain('UPDATE apps/gateway/src/services.ts');
  });

  it('writes the files in Prettier style', async () => {
    await npx('prettier', [
      'prettier',
      '--check',
      `apps/${NAME}`,
      'apps/gateway/src',
      'libs/contracts/src',
      'jest.config.ts',
    ]);
  });

  it(`builds ${NAME}`, async () => {
    await nx('build', `${NAME}`);

    expect(existsSync(join(copy, `dist/apps/${NAME}/main.js`))).toBe(true);
  });

  it(`passes the ${NAME} tests`, async () => {
    const output = await nx('test', `${NAME}`);

    expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
  });

  it('builds the gateway', async () => {
    await nx('build', 'gateway');

    expect(existsSync(join(copy, 'dist/apps/gateway/main.js'))).toBe(true);
  });

  it(`lints ${NAME}`, async () => {
    await nx('lint', `${NAME}`);
  });

  describe('served behind the gateway', () => {
    const jwtSecret = randomBytes(32).toString('hex');
    let gatewayUrl: string;
    let dataDir: string;

    /** Makes a token with tools/token.js, as a user would. */
    function token(sub: string, permissions: string[]): string {
      return execFileSync(
        process.execPath,
        [
          'tools/token.js',
          '--sub',
          sub,
          '--permissions',
          permissions.join(','),
        ],
        { cwd: copy, env: cleanEnv({ JWT_SECRET: jwtSecret }) },
      )
        .toString()
        .trim();
    }

    async function get(path: string, bearer: string) {
      const response = await fetch(`${gatewayUrl}${path}`, {
        headers: { authorization: `Bearer ${bearer}` },
      });
      return { status: response.status, body: await response.json() };
    }

    async function post(path: string, bearer: string, body: unknown) {
      const response = await fetch(`${gatewayUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${bearer}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    }

    beforeAll(async () => {
      const [gatewayPort, servicePort, ordersPort, inventoryPort] =
        await Promise.all([freePort(), freePort(), freePort(), freePort()]);
      dataDir = join(copy, 'service-data');
      const env = {
        NODE_ENV: 'test',
        TRANSPORT: 'tcp',
        JWT_SECRET: jwtSecret,
        USER_CONTEXT_SECRET: randomBytes(32).toString('hex'),
        GATEWAY_PORT: String(gatewayPort),
        [`${ENV_PREFIX}_PORT`]: String(servicePort),
        // Orders and inventory are not started. Free ports for them keep the
        // gateway's start-up connections away from whatever listens on the
        // default ports 3001 and 3002.
        ORDERS_PORT: String(ordersPort),
        INVENTORY_PORT: String(inventoryPort),
        RPC_TIMEOUT_MS: '3000',
        DATA_DIR: dataDir,
      };
      gatewayUrl = `http://127.0.0.1:${gatewayPort}`;

      // One after the other: two Nx runs at once would share the copy's cache.
      await serve(`${NAME}`, env);
      await serve('gateway', env);
    }, 2 * SERVE_TIMEOUT_MS);

    it(`returns the caller id on GET /${NAME}`, async () => {
      const result = await get(
        `/${NAME}`,
        token('alice', [`${NAME}:read`, `${NAME}:write`]),
      );

      expect(result).toEqual({
        status: 200,
        body: { userId: 'alice', items: [] },
      });
    });

    it(`stores a posted item in ${NAME}.sqlite`, async () => {
      const writer = token('carol', [`${NAME}:read`, `${NAME}:write`]);

      const created = await post(`/${NAME}`, writer, { title: 'First' });
      const listed = await get(`/${NAME}`, writer);

      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        title: 'First',
        createdBy: 'carol',
      });
      expect(listed).toEqual({
        status: 200,
        body: { userId: 'carol', items: [created.body] },
      });
      expect(existsSync(join(dataDir, `${NAME}.sqlite`))).toBe(true);
    });

    it('returns 403 without the permission', async () => {
      const result = await get(`/${NAME}`, token('bob', ['orders:read']));

      expect(result).toEqual({
        status: 403,
        body: {
          statusCode: 403,
          message: `Missing permission: ${NAME}:read.`,
          error: 'Forbidden',
        },
      });
    });

    it('returns 401 without a valid token', async () => {
      const result = await get(`/${NAME}`, 'not-a-token');

      expect(result.status).toBe(401);
    });
  });
});

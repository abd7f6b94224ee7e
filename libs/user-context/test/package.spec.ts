/**
 * The package as its users get it: packed with `npm pack`, installed from
 * the tarball into a new project in the system's temporary folder, and used
 * by the README's gateway and service samples, which run over TCP as two
 * processes. It needs libs/user-context/dist, which `npm test` builds first.
 * `npx nx run user-context:test-package` builds it and then runs this file.
 */
import * as jsonwebtoken from 'jsonwebtoken';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';

import {
  ChildApp,
  freeLoopbackPort,
  httpGet,
  isListening,
} from './support/child-app';
import {
  atWorkspaceVersion,
  compile,
  createScratchProject,
  LIB_ROOT,
  npmInstall,
  packLibrary,
  readmeSamples,
  WORKSPACE_ROOT,
  writeFile,
} from './support/scratch-project';

const PACKAGE_NAME = '@platform/user-context';

/** The README's complete sample files, which the scratch project builds and runs. */
const SAMPLE_FILES = [
  'gateway/src/app.module.ts',
  'gateway/src/main.ts',
  'orders/src/app.module.ts',
  'orders/src/main.ts',
];

/** What the samples need besides the package: its peers, an HTTP platform, Node's types. */
const SAMPLE_DEPENDENCIES = [
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/microservices',
  '@nestjs/platform-fastify',
  'reflect-metadata',
  'rxjs',
  '@types/node',
];

/** Optional peers that the broker transports need. TCP needs none of them. */
const BROKER_CLIENTS = [
  'nats',
  'amqplib',
  'amqp-connection-manager',
  'ioredis',
  '@grpc/grpc-js',
  '@grpc/proto-loader',
];

/** Paths a user needs from the tarball. Any other file is a packaging mistake. */
const SHIPPED_FILE =
  /^(package\.json|README\.md|dist\/.+\.(js|js\.map|d\.ts))$/;

/** Settings of a plain CommonJS Nest app, which resolves `types` and `main`. */
const COMMONJS_TSCONFIG = {
  compilerOptions: {
    target: 'es2022',
    module: 'commonjs',
    moduleResolution: 'node10',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    // Checks the package's declarations too, not only the samples.
    skipLibCheck: false,
    types: ['node'],
    rootDir: '.',
    outDir: 'dist',
  },
  include: SAMPLE_FILES,
};

/** A type check with Node's own resolution, which reads `exports` instead. */
const NODENEXT_TSCONFIG = {
  extends: './tsconfig.json',
  compilerOptions: {
    module: 'nodenext',
    moduleResolution: 'nodenext',
    isolatedModules: true,
    noEmit: true,
  },
};

const JWT_SECRET = randomBytes(32).toString('hex');
const USER_CONTEXT_SECRET = randomBytes(32).toString('hex');

let tarballFolder: string | undefined;
let packedFiles: string[] = [];
let scratch: string | undefined;
let orders: ChildApp | undefined;
let gateway: ChildApp | undefined;
let gatewayPort = 0;
const issuedTokens: string[] = [];

function signToken(sub: string, permissions: string[]): string {
  const token = jsonwebtoken.sign({ sub, permissions }, JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: '5m',
  });
  issuedTokens.push(token);
  return token;
}

function installedPackageRoot(): string {
  return join(scratch as string, 'node_modules', ...PACKAGE_NAME.split('/'));
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).map(
    (path) => join(folder, path),
  );
}

async function twoFreePorts(): Promise<[number, number]> {
  const first = await freeLoopbackPort();
  let second = await freeLoopbackPort();
  while (second === first) {
    second = await freeLoopbackPort();
  }
  return [first, second];
}

function buildScratchProject(root: string, tarball: string): void {
  npmInstall(root, [tarball, ...SAMPLE_DEPENDENCIES.map(atWorkspaceVersion)]);

  const samples = readmeSamples();
  expect([...samples.keys()].sort()).toEqual([...SAMPLE_FILES].sort());
  for (const [path, text] of samples) {
    writeFile(root, path, text);
  }
  writeFile(root, 'tsconfig.json', JSON.stringify(COMMONJS_TSCONFIG));
  writeFile(root, 'tsconfig.nodenext.json', JSON.stringify(NODENEXT_TSCONFIG));
  compile(root, 'tsconfig.json');
  compile(root, 'tsconfig.nodenext.json');
}

async function startSamples(root: string): Promise<void> {
  const [ordersPort, httpPort] = await twoFreePorts();
  gatewayPort = httpPort;
  // Only what the apps need, so that nothing points them at the workspace.
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    NO_COLOR: '1',
    JWT_SECRET,
    USER_CONTEXT_SECRET,
    ORDERS_PORT: String(ordersPort),
    GATEWAY_PORT: String(gatewayPort),
  };

  orders = new ChildApp('orders', 'dist/orders/src/main.js', {
    cwd: root,
    env,
  });
  await orders.waitUntil(`a listener on port ${ordersPort}`, () =>
    isListening(ordersPort),
  );
  gateway = new ChildApp('gateway', 'dist/gateway/src/main.js', {
    cwd: root,
    env,
  });
  await gateway.waitUntil('a 200 response to GET /health', async () => {
    const response = await httpGet(gatewayPort, '/health').catch(
      () => undefined,
    );
    return response?.status === 200;
  });
}

beforeAll(async () => {
  if (!existsSync(join(LIB_ROOT, 'dist', 'index.js'))) {
    throw new Error(
      'libs/user-context/dist/index.js is missing: build the library first with `npx nx build user-context`.',
    );
  }
  tarballFolder = mkdtempSync(join(tmpdir(), 'user-context-tarball-'));
  const { tarball, files } = packLibrary(tarballFolder);
  packedFiles = files;

  scratch = createScratchProject();
  buildScratchProject(scratch, tarball);
  await startSamples(scratch);
}, 240_000);

afterAll(async () => {
  await gateway?.stop();
  await orders?.stop();
  for (const folder of [scratch, tarballFolder]) {
    if (folder) {
      rmSync(folder, { recursive: true, force: true });
    }
  }
}, 30_000);

describe('npm pack', () => {
  it('ships only built files, package.json and README', () => {
    expect(packedFiles.filter((path) => !SHIPPED_FILE.test(path))).toEqual([]);
  });

  it('ships no specs', () => {
    expect(packedFiles.filter((path) => path.includes('.spec.'))).toEqual([]);
  });

  it('ships the declarations that package.json names', () => {
    const root = installedPackageRoot();
    const manifest = JSON.parse(
      readFileSync(join(root, 'package.json'), 'utf8'),
    );

    expect(existsSync(join(root, manifest.types))).toBe(true);
    expect(existsSync(join(root, manifest.exports['.'].types))).toBe(true);
  });

  it('ships source maps with their sources inlined', () => {
    const maps = filesUnder(installedPackageRoot()).filter((path) =>
      path.endsWith('.js.map'),
    );
    const incomplete = maps.filter((path) => {
      const map = JSON.parse(readFileSync(path, 'utf8'));
      return (
        !Array.isArray(map.sourcesContent) ||
        map.sourcesContent.length !== map.sources.length ||
        map.sourcesContent.some((text: unknown) => typeof text !== 'string')
      );
    });

    expect(maps.length).toBeGreaterThan(0);
    expect(incomplete).toEqual([]);
  });
});

describe('scratch project', () => {
  it('resolves the package from its own node_modules', () => {
    const resolved = execFileSync(
      process.execPath,
      ['-p', `require.resolve('${PACKAGE_NAME}')`],
      { cwd: scratch, env: { PATH: process.env.PATH ?? '' }, encoding: 'utf8' },
    ).trim();
    const real = realpathSync(resolved);

    expect(real.startsWith(realpathSync(scratch as string) + sep)).toBe(true);
    expect(real.startsWith(WORKSPACE_ROOT + sep)).toBe(false);
  });

  it('has no broker client installed', () => {
    const installed = BROKER_CLIENTS.filter((name) =>
      existsSync(join(scratch as string, 'node_modules', name)),
    );

    expect(installed).toEqual([]);
  });
});

describe('README samples over TCP', () => {
  it('serve a @Public() route without a token', async () => {
    const response = await httpGet(gatewayPort, '/health');

    expect(response).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('reject a request without a token with 401', async () => {
    const response = await httpGet(gatewayPort, '/orders');

    expect(response).toMatchObject({
      status: 401,
      body: { statusCode: 401, error: 'Unauthorized' },
    });
  });

  it('pass the caller to @CurrentUser() in the gateway', async () => {
    const token = signToken('alice', ['orders:read']);

    const response = await httpGet(gatewayPort, '/me', token);

    expect(response).toMatchObject({
      status: 200,
      body: { userId: 'alice', permissions: ['orders:read'] },
    });
  });

  it('pass the caller to @CurrentUser() in the service', async () => {
    const token = signToken('alice', ['orders:read']);

    const response = await httpGet(gatewayPort, '/orders', token);

    expect(response).toMatchObject({
      status: 200,
      body: [{ id: 'order-1', createdBy: 'alice' }],
    });
  });

  it('reject a missing permission with 403', async () => {
    const token = signToken('bob', ['orders:create']);

    const response = await httpGet(gatewayPort, '/orders', token);

    expect(response).toMatchObject({
      status: 403,
      body: {
        statusCode: 403,
        message: 'Missing permission: orders:read.',
        error: 'Forbidden',
      },
    });
  });

  it('log no token', () => {
    const logs = `${gateway?.log}${orders?.log}`;
    const logged = issuedTokens.filter(
      (token) =>
        logs.includes(token) || logs.includes(token.split('.')[2] as string),
    );

    expect(issuedTokens.length).toBeGreaterThan(0);
    expect(logged).toEqual([]);
  });
});

#!/usr/bin/env node
// Measures what the signed user context costs, side by side with a bare Nest
// yardstick and with the token-forwarding anti-pattern, in one run on this
// machine. Prints a table, writes JSON and Markdown to bench/results/, and
// exits non-zero when a target is missed (or, with --quick, on any error).
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const USAGE = `Usage: npm run bench -- [options]

  --quick              one short round per scenario, targets not checked (CI)
  --connections N      concurrent HTTP connections per scenario (default 50)
  --duration SECONDS   measured time per scenario and round (default 10)
  --warmup SECONDS     unmeasured load before each measurement (default 3)
  --rounds N           rounds; the table shows medians (default 3)
  --skip-build         use the existing dist/ output`;

const options = readOptions();
const SECRETS = {
  JWT_SECRET: randomBytes(32).toString('hex'),
  USER_CONTEXT_SECRET: randomBytes(32).toString('hex'),
};
const PERMISSIONS = ['orders:create', 'orders:read', 'inventory:read'];

/** Each app the scenarios start, by name: its build output and the ports it needs. */
const APPS = {
  'reference-service': {
    file: 'dist/bench/reference/service.main.js',
    ports: ['SERVICE_PORT'],
  },
  'reference-http': {
    file: 'dist/bench/reference/http.main.js',
    ports: ['HTTP_PORT'],
    http: true,
  },
  'forwarding-service': {
    file: 'dist/bench/token-forwarding/service.main.js',
    ports: ['SERVICE_PORT'],
  },
  'forwarding-gateway': {
    file: 'dist/bench/token-forwarding/gateway.main.js',
    ports: ['HTTP_PORT'],
    http: true,
  },
  orders: { file: 'dist/apps/orders/main.js', ports: ['ORDERS_PORT'] },
  inventory: { file: 'dist/apps/inventory/main.js', ports: ['INVENTORY_PORT'] },
  gateway: {
    file: 'dist/apps/gateway/main.js',
    ports: ['GATEWAY_PORT'],
    http: true,
    // As `nx serve gateway` runs it; docs/benchmarks.md gives the reason.
    nodeArgs: ['--max-semi-space-size=2'],
  },
};

const ORDER_BODY = JSON.stringify({ items: [{ sku: 'CB-004', quantity: 1 }] });

/** The scenarios, in the order they run in every round. */
const SCENARIOS = [
  {
    id: 'reference-me',
    title: 'reference: bare Fastify route, GET /me',
    apps: ['reference-http'],
    request: { path: '/me' },
  },
  {
    id: 'reference-hop',
    title: 'reference: Fastify -> TCP hop, GET /inventory/KB-001',
    apps: ['reference-service', 'reference-http'],
    request: { path: '/inventory/KB-001' },
  },
  {
    id: 'gateway-me',
    title: 'gateway GET /me (token verified, no hop)',
    apps: ['gateway'],
    request: { path: '/me', auth: true },
  },
  {
    id: 'gateway-stock',
    title: 'gateway GET /inventory/KB-001 (token, envelope, hop, DB read)',
    apps: ['inventory', 'gateway'],
    request: { path: '/inventory/KB-001', auth: true },
  },
  {
    id: 'gateway-order',
    title: 'gateway POST /orders (write path with its event)',
    apps: ['orders', 'inventory', 'gateway'],
    request: { path: '/orders', auth: true, method: 'POST', body: ORDER_BODY },
  },
  {
    id: 'token-forwarding',
    title: 'anti-pattern: raw token forwarded and verified again',
    apps: ['forwarding-service', 'forwarding-gateway'],
    request: { path: '/inventory/KB-001', auth: true },
  },
];

const running = new Set();
process.on('exit', () =>
  running.forEach((child) => stopGroup(child, 'SIGKILL')),
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(130));
}

await main();

async function main() {
  if (options.help) {
    console.log(USAGE);
    return;
  }
  if (!options.skipBuild) {
    console.log('Building the apps and the benchmark yardsticks...');
    execFileSync(
      'npx',
      ['nx', 'run-many', '-t', 'build', '--outputStyle=static'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, NX_DAEMON: 'false' },
      },
    );
  }

  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? 'unknown',
  };
  console.log(
    `${machine.cores} cores (${machine.cpu}), Node ${machine.node}; ` +
      `${options.connections} connections, ${options.duration} s per scenario, ` +
      `${options.warmup} s warm-up, ${options.rounds} round(s)`,
  );

  const micro = await runMicroBenchmarks();
  printMicro(micro);

  const rounds = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const scenario of SCENARIOS) {
      process.stdout.write(
        `round ${round}/${options.rounds}: ${scenario.id}... `,
      );
      const result = await runScenario(scenario);
      rounds.push({ round, ...result });
      console.log(
        `${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99} ms`,
      );
    }
  }

  const summary = SCENARIOS.map((scenario) => summarize(scenario, rounds));
  const targets = checkTargets(summary, micro);
  const table = renderTable(summary);
  console.log(`\n${table}\n`);
  for (const target of targets) {
    console.log(
      `${target.met ? 'met   ' : 'MISSED'} ${target.name}: ${target.detail}`,
    );
  }

  const report = { machine, options, micro, summary, targets, rounds };
  writeReport(report, table);

  const failedRequests = summary.filter(
    (row) => row.errors > 0 || row.non2xx > 0,
  );
  if (failedRequests.length > 0) {
    console.error(
      `Requests failed in: ${failedRequests.map((row) => row.id).join(', ')}`,
    );
    process.exitCode = 1;
  }
  if (!options.quick && targets.some((target) => !target.met)) {
    process.exitCode = 1;
  }
}

function readOptions() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      'skip-build': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const number = (name, fallback) => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isFinite(value) || value <= 0) {
      console.error(
        `--${name} must be a positive number, got "${values[name]}".\n\n${USAGE}`,
      );
      process.exit(2);
    }
    return value;
  };
  return {
    quick: values.quick,
    help: values.help,
    skipBuild: values['skip-build'],
    connections: number('connections', 50),
    duration: number('duration', values.quick ? 1 : 10),
    warmup: number('warmup', values.quick ? 0.5 : 3),
    rounds: number('rounds', values.quick ? 1 : 3),
  };
}

/** Times the per-request work of the identity path on one core, with the gateway's settings. */
async function runMicroBenchmarks() {
  const jwt = require('jsonwebtoken');
  const {
    ContextEnvelopeCodec,
    JwtVerifier,
    defaultClaimsMapper,
  } = require('@platform/user-context');

  // The cache is off so that every call verifies the signature and claims.
  const verifier = new JwtVerifier(
    { secret: SECRETS.JWT_SECRET, cacheSize: 0 },
    defaultClaimsMapper,
  );
  const cachedVerifier = new JwtVerifier(
    { secret: SECRETS.JWT_SECRET },
    defaultClaimsMapper,
  );
  const token = signToken(jwt);
  const codec = new ContextEnvelopeCodec({
    keys: [{ id: 'k1', secret: SECRETS.USER_CONTEXT_SECRET }],
  });
  const user = verifier.verify(token);
  const envelope = codec.sign(user, 'bench-request');
  // USER_CONTEXT_SIGNING=ed25519, for comparison: the gateway signs with
  // the private key, services verify with the public key alone.
  const pair = generateKeyPairSync('ed25519');
  const edCodec = new ContextEnvelopeCodec({ keys: [{ id: 'k1', ...pair }] });
  const edEnvelope = edCodec.sign(user, 'bench-request');

  const bench = new Bench({ time: options.quick ? 100 : 1000 });
  bench
    .add('jwt verify', () => verifier.verify(token))
    .add('jwt verify, cached', () => cachedVerifier.verify(token))
    .add('envelope sign', () => codec.sign(user, 'bench-request'))
    .add('envelope verify', () => codec.verify(envelope))
    .add('envelope sign + verify', () =>
      codec.verify(codec.sign(user, 'bench-request')),
    )
    .add('ed25519 envelope sign', () => edCodec.sign(user, 'bench-request'))
    .add('ed25519 envelope verify', () => edCodec.verify(edEnvelope));
  await bench.run();

  return Object.fromEntries(
    bench.tasks.map((task) => {
      const meanMs = task.result?.latency?.mean;
      if (!meanMs) {
        throw new Error(`Micro-benchmark "${task.name}" produced no result.`);
      }
      return [
        task.name,
        { opsPerSecond: 1000 / meanMs, microseconds: meanMs * 1000 },
      ];
    }),
  );
}

function printMicro(micro) {
  for (const [name, result] of Object.entries(micro)) {
    console.log(
      `${name.padEnd(24)} ${Math.round(result.opsPerSecond).toLocaleString('en-US').padStart(10)} ops/s` +
        `  ${result.microseconds.toFixed(2)} µs`,
    );
  }
}

function signToken(jwt) {
  return jwt.sign(
    { email: 'bench@example.com', roles: [], permissions: PERMISSIONS },
    SECRETS.JWT_SECRET,
    { algorithm: 'HS256', subject: 'bench-user', expiresIn: '2h' },
  );
}

/** Starts a scenario's apps, warms up, measures once, reads each app's peak RSS, stops them. */
async function runScenario(scenario) {
  const dataDir = mkdtempSync(join(tmpdir(), `bench-${scenario.id}-`));
  const env = await scenarioEnv(scenario, dataDir);
  const started = [];
  try {
    for (const name of scenario.apps) {
      started.push(await startApp(name, env, dataDir));
    }
    const httpApp = started.find((app) => APPS[app.name].http);
    const request = buildRequest(scenario.request, httpApp.port);

    await load(request, options.warmup);
    const result = await load(request, options.duration);
    const peakRssMb = Object.fromEntries(
      started.map((app) => [app.name, peakRss(app.child.pid)]),
    );

    return {
      id: scenario.id,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      peakRssMb,
    };
  } finally {
    await Promise.all(started.map((app) => stopApp(app.child)));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function scenarioEnv(scenario, dataDir) {
  const env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    NO_COLOR: '1',
    DATA_DIR: dataDir,
    RPC_TIMEOUT_MS: '10000',
    ...SECRETS,
  };
  for (const name of scenario.apps) {
    for (const variable of APPS[name].ports) {
      env[variable] ??= String(await freePort());
    }
  }
  return env;
}

function buildRequest(spec, port) {
  const headers = { 'content-type': 'application/json' };
  if (spec.auth) {
    headers.authorization = `Bearer ${signToken(require('jsonwebtoken'))}`;
  }
  return {
    url: `http://127.0.0.1:${port}${spec.path}`,
    method: spec.method ?? 'GET',
    headers,
    body: spec.body,
  };
}

function load(request, seconds) {
  return autocannon({
    ...request,
    connections: options.connections,
    duration: seconds,
  });
}

async function startApp(name, env, dataDir) {
  const app = APPS[name];
  const file = join(ROOT, app.file);
  if (!existsSync(file)) {
    throw new Error(`${file} does not exist; run without --skip-build.`);
  }
  const log = openSync(join(dataDir, `${name}.log`), 'a');
  const child = spawn(process.execPath, [...(app.nodeArgs ?? []), file], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  running.add(child);
  const port = Number(env[app.ports[0]]);
  try {
    await waitForPort(port, child);
  } catch (error) {
    const output = readFileSync(join(dataDir, `${name}.log`), 'utf8').slice(
      -2000,
    );
    throw new Error(`${name} did not start: ${error.message}\n${output}`);
  }
  return { name, child, port };
}

async function stopApp(child) {
  running.delete(child);
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
  stopGroup(child, 'SIGTERM');
  const timer = setTimeout(() => stopGroup(child, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

function stopGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** Peak resident set size (VmHWM) of a process since it started, in MB. */
function peakRss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1]);
  return Math.round((kilobytes / 1024) * 10) / 10;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForPort(port, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`exited with code ${child.exitCode}`);
    }
    const open = await new Promise((resolveOpen) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolveOpen(true);
      });
      socket.on('error', () => resolveOpen(false));
    });
    if (open) {
      return;
    }
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
  }
  throw new Error(`port ${port} did not open within ${timeoutMs} ms`);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? sorted[middle]
    : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Medians over rounds for speed; the maximum over rounds for memory and the sum for failures. */
function summarize(scenario, rounds) {
  const mine = rounds.filter((round) => round.id === scenario.id);
  const peakRssMb = {};
  for (const name of scenario.apps) {
    peakRssMb[name] = Math.max(...mine.map((round) => round.peakRssMb[name]));
  }
  return {
    id: scenario.id,
    title: scenario.title,
    requestsPerSecond: median(mine.map((round) => round.requestsPerSecond)),
    p50: median(mine.map((round) => round.p50)),
    p99: median(mine.map((round) => round.p99)),
    errors: mine.reduce((sum, round) => sum + round.errors, 0),
    non2xx: mine.reduce((sum, round) => sum + round.non2xx, 0),
    peakRssMb,
  };
}

function checkTargets(summary, micro) {
  const row = (id) => summary.find((entry) => entry.id === id);
  const ratio = (a, b) => (b === 0 ? 0 : a / b);
  const hopThroughput = ratio(
    row('gateway-stock').requestsPerSecond,
    row('reference-hop').requestsPerSecond,
  );
  const hopP99 = ratio(row('gateway-stock').p99, row('reference-hop').p99);
  const meThroughput = ratio(
    row('gateway-me').requestsPerSecond,
    row('reference-me').requestsPerSecond,
  );
  const envelopeMicroseconds = micro['envelope sign + verify'].microseconds;
  const gatewayRss = Math.max(
    ...summary
      .filter((entry) => entry.peakRssMb.gateway !== undefined)
      .map((entry) => entry.peakRssMb.gateway),
  );
  const failures = summary.reduce(
    (sum, entry) => sum + entry.errors + entry.non2xx,
    0,
  );

  return [
    {
      name: 'hop throughput >= 75% of reference',
      met: hopThroughput >= 0.75,
      detail: `${percent(hopThroughput)} (gateway-stock / reference-hop req/s)`,
    },
    {
      name: 'hop p99 <= 1.5x reference',
      met: hopP99 <= 1.5,
      detail: `${hopP99.toFixed(2)}x (gateway-stock / reference-hop p99)`,
    },
    {
      name: '/me throughput >= 80% of a bare route',
      met: meThroughput >= 0.8,
      detail: `${percent(meThroughput)} (gateway-me / reference-me req/s)`,
    },
    {
      name: 'envelope sign + verify < 10 µs',
      met: envelopeMicroseconds < 10,
      detail: `${envelopeMicroseconds.toFixed(2)} µs`,
    },
    {
      name: 'JWT verify > 50k/s on one core',
      met: micro['jwt verify'].opsPerSecond > 50_000,
      detail: `${Math.round(micro['jwt verify'].opsPerSecond).toLocaleString('en-US')}/s`,
    },
    {
      name: 'gateway peak RSS < 150 MB',
      met: gatewayRss < 150,
      detail: `${gatewayRss} MB`,
    },
    {
      name: 'no errors or non-2xx',
      met: failures === 0,
      detail: `${failures}`,
    },
    {
      name: 'context hop faster than token forwarding',
      met:
        row('gateway-stock').requestsPerSecond >
        row('token-forwarding').requestsPerSecond,
      detail: `${percent(ratio(row('gateway-stock').requestsPerSecond, row('token-forwarding').requestsPerSecond))} of its req/s`,
    },
  ];
}

function percent(value) {
  return `${(value * 100).toFixed(1)}%`;
}

function renderTable(summary) {
  const lines = [
    '| scenario | req/s | p50 ms | p99 ms | errors | non-2xx | peak RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const row of summary) {
    const rss = Object.entries(row.peakRssMb)
      .map(([name, mb]) => `${name} ${mb}`)
      .join(', ');
    lines.push(
      `| ${row.title} | ${Math.round(row.requestsPerSecond)} | ${row.p50} | ${row.p99} | ${row.errors} | ${row.non2xx} | ${rss} |`,
    );
  }
  return lines.join('\n');
}

function writeReport(report, table) {
  const folder = join(ROOT, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  const stamp = report.machine.date.replace(/[:.]/g, '-');
  const jsonFile = join(folder, `bench-${stamp}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(
    join(folder, 'latest.json'),
    `${JSON.stringify(report, null, 2)}\n`,
  );

  const targetLines = report.targets.map(
    (target) =>
      `- ${target.met ? 'met' : '**missed**'}: ${target.name}: ${target.detail}`,
  );
  const microLines = Object.entries(report.micro).map(
    ([name, result]) =>
      `| ${name} | ${Math.round(result.opsPerSecond)} | ${result.microseconds.toFixed(2)} |`,
  );
  const markdown = [
    `Run on ${report.machine.date} with Node ${report.machine.node}, ${report.machine.cores} cores (${report.machine.cpu}).`,
    `${report.options.connections} connections, ${report.options.duration} s per scenario after ${report.options.warmup} s of warm-up, median of ${report.options.rounds} round(s).`,
    '',
    table,
    '',
    '| operation | ops/s | µs |',
    '| --- | ---: | ---: |',
    ...microLines,
    '',
    ...targetLines,
    '',
  ].join('\n');
  writeFileSync(join(folder, 'latest.md'), markdown);
  console.log(
    `\nWrote ${jsonFile}, bench/results/latest.json and bench/results/latest.md`,
  );
}

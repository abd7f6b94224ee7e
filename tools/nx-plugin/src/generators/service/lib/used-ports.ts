import { getProjects, Tree, visitNotIgnoredFiles } from '@nx/devkit';
import * as ts from 'typescript';

/** A default port that an app of the workspace listens on or calls. */
export interface PortUse {
  port: number;
  /** Owner of the port: the variable prefix (`ORDERS`) or the service name. */
  owner: string;
  /** Workspace path of the file that contains the port. */
  file: string;
}

/** Default port of the gateway: new services start above it. */
export const GATEWAY_DEFAULT_PORT = 3000;
/** Ports below 1024 need root on Linux. */
export const MIN_PORT = 1024;
export const MAX_PORT = 65535;
/**
 * Highest default port the generator picks by itself: Linux hands out
 * ephemeral ports from 32768 (net.ipv4.ip_local_port_range), where an
 * outgoing connection may hold the port when the service starts.
 */
export const MAX_DEFAULT_PORT = 32767;

/** Default ports of the brokers and databases that run beside the apps locally. */
export const BROKER_PORTS = new Map<number, string>([
  [1883, 'MQTT'],
  [3306, 'MySQL'],
  [4222, 'NATS'],
  [5432, 'PostgreSQL'],
  [5672, 'RabbitMQ'],
  [6379, 'Redis'],
]);

const SPEC_FILE = /\.(e2e-)?spec\.ts$|\.d\.ts$/;

/**
 * Finds the default ports written in the workspace's TypeScript sources:
 * the second argument of every `addressFromEnv('<PREFIX>', <port>, ...)`
 * call and every `defaultPort: <port>` property (the gateway's service
 * list). Specs are skipped, because their ports are examples.
 */
export function findUsedPorts(tree: Tree): PortUse[] {
  const uses: PortUse[] = [];
  for (const project of getProjects(tree).values()) {
    visitNotIgnoredFiles(tree, project.root, (file) => {
      if (!file.endsWith('.ts') || SPEC_FILE.test(file)) {
        return;
      }
      uses.push(...portsInFile(file, tree.read(file, 'utf-8') ?? ''));
    });
  }
  return uses;
}

/**
 * Returns the default port for a new service: one above the highest port
 * in use up to MAX_DEFAULT_PORT (and above the gateway's), skipping ports
 * in use and broker ports. When that passes MAX_DEFAULT_PORT, returns the
 * lowest free port above the gateway's instead, or undefined when none is
 * left up to MAX_DEFAULT_PORT.
 */
export function nextFreePort(uses: PortUse[]): number | undefined {
  const usedPorts = new Set(uses.map((use) => use.port));
  const isFree = (port: number) =>
    !usedPorts.has(port) && !BROKER_PORTS.has(port);
  const highest = Math.max(
    GATEWAY_DEFAULT_PORT,
    ...[...usedPorts].filter((port) => port <= MAX_DEFAULT_PORT),
  );
  for (let port = highest + 1; port <= MAX_DEFAULT_PORT; port++) {
    if (isFree(port)) {
      return port;
    }
  }
  for (let port = GATEWAY_DEFAULT_PORT + 1; port <= highest; port++) {
    if (isFree(port)) {
      return port;
    }
  }
  return undefined;
}

/**
 * Returns `requested` after checking that it is in range, unused and no
 * broker's port, or the next free port when it is left out.
 */
export function choosePort(tree: Tree, requested: number | undefined): number {
  const uses = findUsedPorts(tree);
  const next = nextFreePort(uses);
  const orNext =
    next === undefined
      ? ''
      : `, or leave --port out to take the next free port, ${next}`;
  const orLeaveOut =
    next === undefined
      ? ''
      : `, or leave it out to take the next free port, ${next}`;
  if (requested === undefined) {
    if (next === undefined) {
      throw new Error(
        `No free default port is left from ${GATEWAY_DEFAULT_PORT + 1} to ${MAX_DEFAULT_PORT}. Pass --port with an unused port from ${MIN_PORT} to ${MAX_PORT}.`,
      );
    }
    return next;
  }

  if (
    !Number.isInteger(requested) ||
    requested < MIN_PORT ||
    requested > MAX_PORT
  ) {
    throw new Error(
      `Invalid --port ${requested}: choose an integer from ${MIN_PORT} to ${MAX_PORT}${orNext}.`,
    );
  }
  const broker = BROKER_PORTS.get(requested);
  if (broker) {
    throw new Error(
      `Invalid --port ${requested}: it is the default port of ${broker}, which may run beside the apps. Choose another --port${orLeaveOut}.`,
    );
  }
  const existing = uses.find((use) => use.port === requested);
  if (existing) {
    throw new Error(
      `Port ${requested} is taken: it is the default port of ${existing.owner} in ${existing.file}. Choose another --port${orLeaveOut}.`,
    );
  }
  return requested;
}

function portsInFile(file: string, text: string): PortUse[] {
  // Most files never mention a port; parsing only the others keeps the scan fast.
  if (!text.includes('addressFromEnv') && !text.includes('defaultPort')) {
    return [];
  }
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const uses: PortUse[] = [];
  const visit = (node: ts.Node): void => {
    const use = addressCallPort(node) ?? defaultPortProperty(node);
    if (use) {
      uses.push({ ...use, file });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** Reads `addressFromEnv('ORDERS', 3001, env)`. */
function addressCallPort(node: ts.Node): Omit<PortUse, 'file'> | undefined {
  if (
    !ts.isCallExpression(node) ||
    !ts.isIdentifier(node.expression) ||
    node.expression.text !== 'addressFromEnv'
  ) {
    return undefined;
  }
  const [prefix, port] = node.arguments;
  if (!port || !ts.isNumericLiteral(port)) {
    return undefined;
  }
  return {
    port: Number(port.text),
    owner: prefix && ts.isStringLiteral(prefix) ? prefix.text : 'an app',
  };
}

/** Reads `{ service: 'orders', defaultPort: 3001, ... }`. */
function defaultPortProperty(node: ts.Node): Omit<PortUse, 'file'> | undefined {
  if (
    !ts.isPropertyAssignment(node) ||
    !ts.isIdentifier(node.name) ||
    node.name.text !== 'defaultPort' ||
    !ts.isNumericLiteral(node.initializer)
  ) {
    return undefined;
  }
  const service = ts.isObjectLiteralExpression(node.parent)
    ? node.parent.properties.find(
        (property): property is ts.PropertyAssignment =>
          ts.isPropertyAssignment(property) &&
          ts.isIdentifier(property.name) &&
          property.name.text === 'service' &&
          ts.isStringLiteral(property.initializer),
      )
    : undefined;
  return {
    port: Number(node.initializer.text),
    owner: service
      ? (service.initializer as ts.StringLiteral).text
      : 'a service',
  };
}

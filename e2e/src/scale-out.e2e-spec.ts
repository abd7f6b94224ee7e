import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';

import { AppProcess, freePort } from './support/processes';
import { eventually, Stack } from './support/stack';
import { deleteRmqQueues, onTransport } from './support/transport';

const { Client } = require('pg');

const POSTGRES_URL =
  process.env.E2E_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432';
const BUYER = ['orders:create', 'orders:read', 'inventory:read'];
const USERS = ['ana', 'ben', 'cai', 'dee', 'eli', 'fay'];
const ORDERS_PER_USER = 10;
const ITEMS = [
  { sku: 'MS-002', quantity: 1 },
  { sku: 'CB-004', quantity: 2 },
];

/** Runs one statement against PostgreSQL's maintenance database. */
async function admin(sql: string): Promise<void> {
  const client = new Client({ connectionString: `${POSTGRES_URL}/postgres` });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Two replicas of orders and of inventory on one broker, each pair sharing
 * a PostgreSQL database. Runs on NATS (queue groups) and RabbitMQ (one
 * shared queue per service); e2e/jest.config.ts leaves it out elsewhere.
 */
describe(onTransport('services scaled out to two replicas'), () => {
  // Used for its secrets, token signing and HTTP helpers; its apps are started here.
  const stack = new Stack();
  const suffix = randomBytes(4).toString('hex');
  const databases = {
    orders: `scale_orders_${suffix}`,
    inventory: `scale_inventory_${suffix}`,
  };
  const orders: AppProcess[] = [];
  const inventory: AppProcess[] = [];
  let gateway: AppProcess;
  let created: Array<{ userId: string; id: string }> = [];

  const envFor = (database: string, port: number): NodeJS.ProcessEnv => ({
    ...stack.env,
    DATA_DIR: stack.dataDir,
    DATABASE_URL: `${POSTGRES_URL}/${database}`,
    ORDERS_PORT: String(port),
    INVENTORY_PORT: String(port),
  });

  beforeAll(async () => {
    await admin(`CREATE DATABASE ${databases.orders}`);
    await admin(`CREATE DATABASE ${databases.inventory}`);
    stack.env = {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      NODE_ENV: 'test',
      JWT_SECRET: stack.jwtSecret,
      USER_CONTEXT_SECRET: stack.contextSecret,
      GATEWAY_PORT: String(await freePort()),
      RPC_TIMEOUT_MS: '5000',
      TRANSPORT: stack.transport,
      BROKER_NAMESPACE: `scale-${suffix}`,
    };
    // One replica at a time: each creates the schema (and inventory seeds
    // its catalog) on first start, and two at once would race.
    for (let replica = 0; replica < 2; replica += 1) {
      const ordersReplica = new AppProcess(
        'orders',
        envFor(databases.orders, await freePort()),
      );
      await ordersReplica.start();
      orders.push(ordersReplica);
      const inventoryReplica = new AppProcess(
        'inventory',
        envFor(databases.inventory, await freePort()),
      );
      await inventoryReplica.start();
      inventory.push(inventoryReplica);
    }
    gateway = new AppProcess('gateway', stack.env);
    await gateway.start();

    const burst = USERS.flatMap((userId) =>
      Array.from({ length: ORDERS_PER_USER }, async () => {
        const result = await stack.request('POST', '/orders', {
          token: stack.token({ sub: userId, permissions: BUYER }),
          body: { items: ITEMS },
        });
        expect(result.status).toBe(201);
        return { userId, id: result.body.id as string };
      }),
    );
    created = await Promise.all(burst);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(
      [gateway, ...orders, ...inventory].map((app) => app?.stop()),
    );
    rmSync(stack.dataDir, { recursive: true, force: true });
    await admin(`DROP DATABASE IF EXISTS ${databases.orders}`);
    await admin(`DROP DATABASE IF EXISTS ${databases.inventory}`);
    if (stack.transport === 'rmq') {
      await deleteRmqQueues(stack.env.RABBITMQ_URL, [
        `scale-${suffix}.orders`,
        `scale-${suffix}.inventory`,
      ]);
    }
  });

  const auditOf = (apps: AppProcess[], action: string) =>
    apps.map((app) =>
      app.auditLines().filter((line) => line.action === action),
    );

  it('confirms every order as its caller', async () => {
    const statuses = await eventually(async () => {
      const results = await Promise.all(
        created.map(({ userId, id }) =>
          stack.request('GET', `/orders/${id}`, {
            token: stack.token({ sub: userId, permissions: BUYER }),
          }),
        ),
      );
      const bodies = results.map((result) => result.body);
      return bodies.every((body) => body.status !== 'pending')
        ? bodies
        : undefined;
    }, 30_000);

    expect(statuses.map((body) => body.status)).toEqual(
      created.map(() => 'confirmed'),
    );
    expect(statuses.map((body) => body.createdBy)).toEqual(
      created.map(({ userId }) => userId),
    );
  });

  it('creates each order exactly once', () => {
    const lines = auditOf(orders, 'order.create').flat();
    const ids = lines.map((line) => line.resourceId);

    expect(ids).toHaveLength(created.length);
    expect(new Set(ids)).toEqual(new Set(created.map(({ id }) => id)));
  });

  it('reserves each order exactly once', () => {
    const ids = auditOf(inventory, 'inventory.reserve')
      .flat()
      .map((line) => line.resourceId);

    expect(ids).toHaveLength(created.length);
    expect(new Set(ids)).toEqual(new Set(created.map(({ id }) => id)));
  });

  it('names the caller on every reservation', async () => {
    const reservations = await Promise.all(
      created.map(async ({ userId, id }) => {
        const result = await stack.request(
          'GET',
          `/inventory/reservations?orderId=${id}`,
          {
            token: stack.token({ sub: userId, permissions: BUYER }),
          },
        );
        return { userId, body: result.body as Array<{ reservedBy: string }> };
      }),
    );

    for (const { userId, body } of reservations) {
      expect(body.map((reservation) => reservation.reservedBy)).toEqual([
        userId,
        userId,
      ]);
    }
  });

  it('takes the reserved stock exactly once', async () => {
    const token = stack.token({ sub: 'auditor', permissions: BUYER });
    const mouse = await stack.request('GET', '/inventory/MS-002', { token });
    const cable = await stack.request('GET', '/inventory/CB-004', { token });

    expect(mouse.body).toEqual(
      expect.objectContaining({
        available: 100 - created.length,
        reserved: created.length,
      }),
    );
    expect(cable.body).toEqual(
      expect.objectContaining({
        available: 500 - 2 * created.length,
        reserved: 2 * created.length,
      }),
    );
  });

  it('spreads the work over both replicas', () => {
    const ordersWork = auditOf(orders, 'order.create').map(
      (lines) => lines.length,
    );
    const inventoryWork = auditOf(inventory, 'inventory.reserve').map(
      (lines) => lines.length,
    );

    expect(ordersWork.every((count) => count > 0)).toBe(true);
    expect(inventoryWork.every((count) => count > 0)).toBe(true);
  });
});

import { generateKeyPairSync, KeyObject } from 'node:crypto';

import { ContextEnvelopeCodec, UserContext } from '@platform/user-context';

import { AppProcess, freePort } from './support/processes';
import { eventually, Stack } from './support/stack';
import { onTransport, openRawPeer, transportEnv } from './support/transport';

const BUYER = ['orders:create', 'orders:read', 'inventory:read'];

/** Returns the raw 32-byte key in base64url, as `npm run context-keys` prints it. */
function raw(key: KeyObject, type: 'pkcs8' | 'spki'): string {
  const der = key.export({ type, format: 'der' });
  return der.subarray(der.length - 32).toString('base64url');
}

/**
 * USER_CONTEXT_SIGNING=ed25519: only the gateway has the private key, the
 * services have the public key, and orders passes the gateway's envelope on
 * to inventory unchanged.
 */
describe(onTransport('an Ed25519-signed context'), () => {
  const stack = new Stack();
  const pair = generateKeyPairSync('ed25519');
  const mallory: UserContext = {
    userId: 'mallory',
    roles: [],
    permissions: BUYER,
  };
  const alice = () => stack.token({ sub: 'alice', permissions: BUYER });

  beforeAll(async () => {
    const [gatewayPort, ordersPort, inventoryPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    stack.env = {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      NODE_ENV: 'test',
      DATA_DIR: stack.dataDir,
      JWT_SECRET: stack.jwtSecret,
      GATEWAY_PORT: String(gatewayPort),
      ORDERS_PORT: String(ordersPort),
      INVENTORY_PORT: String(inventoryPort),
      RPC_TIMEOUT_MS: '3000',
      ...transportEnv(stack.transport),
      USER_CONTEXT_SIGNING: 'ed25519',
      USER_CONTEXT_PUBLIC_KEYS: `k1=${raw(pair.publicKey, 'spki')}`,
    };
    stack.orders = new AppProcess('orders', stack.env);
    stack.inventory = new AppProcess('inventory', {
      ...stack.env,
      USER_CONTEXT_FORWARDED_FROM: 'orders',
    });
    stack.gateway = new AppProcess('gateway', {
      ...stack.env,
      USER_CONTEXT_PRIVATE_KEY: raw(pair.privateKey, 'pkcs8'),
    });
    await Promise.all([stack.orders.start(), stack.inventory.start()]);
    await stack.gateway.start();
  });

  afterAll(() => stack.stop());

  it('confirms an order through the forwarded envelope', async () => {
    const created = await stack.request('POST', '/orders', {
      token: alice(),
      body: { items: [{ sku: 'KB-001', quantity: 1 }] },
    });
    const order = await eventually(async () => {
      const result = await stack.request('GET', `/orders/${created.body.id}`, {
        token: alice(),
      });
      return result.body.status === 'pending' ? undefined : result.body;
    });
    const reservations = await stack.request(
      'GET',
      `/inventory/reservations?orderId=${created.body.id}`,
      { token: alice() },
    );

    expect(created.status).toBe(201);
    expect(order.status).toBe('confirmed');
    expect(reservations.body).toEqual([
      expect.objectContaining({ reservedBy: 'alice' }),
    ]);
  });

  it('rejects an envelope signed with another key pair', async () => {
    const other = generateKeyPairSync('ed25519');
    const impostor = new ContextEnvelopeCodec({
      keys: [
        { id: 'k1', publicKey: other.publicKey, privateKey: other.privateKey },
      ],
    });
    const orders = await openRawPeer(stack.transport, 'orders', stack.env);
    try {
      const answer = await orders.request(
        'orders.list',
        {},
        impostor.sign(mallory, 'ed-1', Date.now(), 'orders'),
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
    } finally {
      await orders.close();
    }
  });

  it('rejects an HMAC envelope', async () => {
    const hmac = new ContextEnvelopeCodec({
      keys: [{ id: 'k1', secret: 'x'.repeat(32) }],
    });
    const orders = await openRawPeer(stack.transport, 'orders', stack.env);
    try {
      const answer = await orders.request(
        'orders.list',
        {},
        hmac.sign(mallory, 'ed-2', Date.now(), 'orders'),
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
    } finally {
      await orders.close();
    }
  });

  it('rejects an envelope for inventory at orders', async () => {
    const gateway = new ContextEnvelopeCodec({
      keys: [
        { id: 'k1', publicKey: pair.publicKey, privateKey: pair.privateKey },
      ],
    });
    const orders = await openRawPeer(stack.transport, 'orders', stack.env);
    try {
      const answer = await orders.request(
        'orders.list',
        {},
        gateway.sign(mallory, 'ed-3', Date.now(), 'inventory'),
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
    } finally {
      await orders.close();
    }
  });
});

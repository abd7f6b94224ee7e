import { randomBytes } from 'node:crypto';

import { ContextEnvelopeCodec, UserContext } from '@platform/user-context';

import { AppProcess } from './support/processes';
import { eventually, Stack } from './support/stack';
import { onTransport, openRawPeer } from './support/transport';

const BUYER = ['orders:create', 'orders:read', 'inventory:read'];

/**
 * The context key rotation of docs/transports.md, step by step, with one
 * app restarted at a time and an order placed between every two restarts.
 */
describe(onTransport('rotating the context key'), () => {
  const stack = new Stack();
  const oldSecret = randomBytes(32).toString('hex');
  const newSecret = randomBytes(32).toString('hex');
  const alice = () => stack.token({ sub: 'alice', permissions: BUYER });
  const mallory: UserContext = {
    userId: 'mallory',
    roles: [],
    permissions: BUYER,
  };

  /** Places an order and waits until inventory has confirmed it: both hops worked. */
  async function orderRoundTrip(): Promise<void> {
    const created = await stack.request('POST', '/orders', {
      token: alice(),
      body: { items: [{ sku: 'CB-004', quantity: 1 }] },
    });
    expect(created.status).toBe(201);
    await eventually(async () => {
      const order = await stack.request('GET', `/orders/${created.body.id}`, {
        token: alice(),
      });
      return order.body.status === 'confirmed' ? true : undefined;
    });
  }

  /** Restarts one app with a new key ring, as an operator would. */
  async function restart(
    name: 'gateway' | 'orders' | 'inventory',
    keys: string,
  ): Promise<void> {
    await stack[name].stop();
    stack.env = { ...stack.env, USER_CONTEXT_KEYS: keys };
    stack[name] = new AppProcess(name, stack.env);
    await stack[name].start();
  }

  beforeAll(() =>
    stack.start({
      USER_CONTEXT_SECRET: '',
      USER_CONTEXT_KEYS: `k1=${oldSecret}`,
    }),
  );
  afterAll(() => stack.stop());

  it('keeps every request working through the rotation', async () => {
    await orderRoundTrip();

    // 1. Services accept the new key, still signing with the old one.
    await restart('orders', `k1=${oldSecret},k2=${newSecret}`);
    await orderRoundTrip();
    await restart('inventory', `k1=${oldSecret},k2=${newSecret}`);
    await orderRoundTrip();

    // 2. Everyone signs with the new key and still accepts the old one.
    await restart('gateway', `k2=${newSecret},k1=${oldSecret}`);
    await orderRoundTrip();
    await restart('orders', `k2=${newSecret},k1=${oldSecret}`);
    await orderRoundTrip();
    await restart('inventory', `k2=${newSecret},k1=${oldSecret}`);
    await orderRoundTrip();

    // 3. Once the envelope lifetime has passed, the old key goes.
    await restart('gateway', `k2=${newSecret}`);
    await restart('orders', `k2=${newSecret}`);
    await restart('inventory', `k2=${newSecret}`);
    await orderRoundTrip();
  });

  it('rejects an envelope signed with the retired key', async () => {
    const retired = new ContextEnvelopeCodec({
      keys: [{ id: 'k1', secret: oldSecret }],
    });
    const orders = await openRawPeer(stack.transport, 'orders', stack.env);
    try {
      const answer = await orders.request(
        'orders.list',
        {},
        retired.sign(mallory, 'retired-1', Date.now(), 'orders'),
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
    } finally {
      await orders.close();
    }
  });

  it('accepts an envelope signed with the new key', async () => {
    const current = new ContextEnvelopeCodec({
      keys: [{ id: 'k2', secret: newSecret }],
    });
    const orders = await openRawPeer(stack.transport, 'orders', stack.env);
    try {
      const answer = await orders.request(
        'orders.list',
        {},
        current.sign(mallory, 'current-1', Date.now(), 'orders'),
      );

      expect(answer.err).toBeUndefined();
      expect(answer.response).toEqual([]);
    } finally {
      await orders.close();
    }
  });
});

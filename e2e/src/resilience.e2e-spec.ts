import { createServer, Server, Socket } from 'node:net';

import { ContextEnvelopeCodec, UserContext } from '@platform/user-context';

import { AppProcess, freePort } from './support/processes';
import { eventually, Stack } from './support/stack';
import {
  deleteRmqQueues,
  onTransport,
  answerWithGarbage,
  openRawPeer,
  RawPeer,
  refusingQueue,
  subscribeSilently,
  transportEnv,
} from './support/transport';

const BUYER = ['orders:create', 'orders:read', 'inventory:read'];

describe(onTransport('services behind the gateway'), () => {
  const stack = new Stack();
  const alice = () => stack.token({ sub: 'alice', permissions: BUYER });

  beforeAll(() => stack.start());
  afterAll(() => stack.stop());

  describe(`forged messages sent straight to a service over ${stack.transport}`, () => {
    let orders: RawPeer;
    let codec: ContextEnvelopeCodec;
    const mallory: UserContext = {
      userId: 'mallory',
      roles: [],
      permissions: BUYER,
    };

    beforeAll(async () => {
      orders = await openRawPeer(stack.transport, 'orders', stack.env);
      codec = new ContextEnvelopeCodec({
        keys: [{ id: 'k1', secret: stack.contextSecret }],
      });
    });

    afterAll(() => orders?.close());

    const ordersOf = async (userId: string) => {
      const token = stack.token({ sub: userId, permissions: BUYER });
      return (await stack.request('GET', '/orders', { token })).body;
    };

    it('rejects a message without an envelope', async () => {
      const answer = await orders.request('orders.create', {
        items: [{ sku: 'KB-001', quantity: 1 }],
      });

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects identity sent as plain fields', async () => {
      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }], userId: 'mallory' },
        { userId: 'mallory' },
        { user: mallory },
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects an envelope with escalated permissions', async () => {
      const envelope = codec.sign(
        { userId: 'mallory', roles: [], permissions: [] },
        'forged-1',
        Date.now(),
        'orders',
      );
      const [version, keyId, payload, signature] = envelope.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      claims.permissions = BUYER;
      const forged = [
        version,
        keyId,
        Buffer.from(JSON.stringify(claims)).toString('base64url'),
        signature,
      ].join('.');

      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        forged,
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects an envelope signed with another key', async () => {
      const other = new ContextEnvelopeCodec({
        keys: [{ id: 'k1', secret: 'x'.repeat(32) }],
      });

      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        other.sign(mallory, 'forged-2'),
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects an expired envelope', async () => {
      const stale = codec.sign(
        mallory,
        'forged-3',
        Date.now() - 10 * 60_000,
        'orders',
      );

      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        stale,
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects an envelope for another service', async () => {
      const forInventory = codec.sign(
        mallory,
        'aud-1',
        Date.now(),
        'inventory',
      );

      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        forInventory,
      );

      expect(answer.err).toEqual(expect.objectContaining({ statusCode: 401 }));
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('rejects a valid envelope lacking permission', async () => {
      const reader = codec.sign(
        { userId: 'mallory', roles: [], permissions: ['orders:read'] },
        'r-1',
        Date.now(),
        'orders',
      );

      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        reader,
      );

      expect(answer.err).toEqual({
        statusCode: 403,
        message: 'Missing permission: orders:create.',
        error: 'Forbidden',
      });
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('validates the payload of a valid envelope', async () => {
      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: -5 }] },
        codec.sign(mallory, 'r-2', Date.now(), 'orders'),
      );

      expect(answer.err).toEqual(
        expect.objectContaining({ statusCode: 400, error: 'Bad Request' }),
      );
      expect(await ordersOf('mallory')).toEqual([]);
    });

    it('accepts a correctly signed message', async () => {
      const answer = await orders.request(
        'orders.create',
        { items: [{ sku: 'KB-001', quantity: 1 }] },
        codec.sign(mallory, 'r-3', Date.now(), 'orders'),
      );

      expect(answer.err).toBeUndefined();
      expect(answer.response).toEqual(
        expect.objectContaining({ createdBy: 'mallory' }),
      );
      expect(
        (await ordersOf('mallory')).map((order: { id: string }) => order.id),
      ).toEqual([(answer.response as { id: string }).id]);
    });

    it('drops an event without an envelope', async () => {
      const inventory = await openRawPeer(
        stack.transport,
        'inventory',
        stack.env,
      );
      const orderId = '11111111-1111-4111-8111-111111111111';
      try {
        await inventory.emit('order.created', {
          orderId,
          items: [{ sku: 'KB-001', quantity: 1 }],
        });
        await stack.inventory.waitForLine(
          /Rejected message ".*order.created": envelope missing/,
        );
      } finally {
        await inventory.close();
      }

      const reservations = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${orderId}`,
        {
          token: alice(),
        },
      );
      expect(reservations.body).toEqual([]);
    });

    it('logs an event with an invalid payload', async () => {
      const inventory = await openRawPeer(
        stack.transport,
        'inventory',
        stack.env,
      );
      try {
        // A payload that every transport carries, gRPC's typed messages
        // included, and that the service's DTO still rejects.
        await inventory.emit(
          'order.created',
          {
            orderId: '22222222-2222-4222-8222-222222222222',
            items: [{ sku: 'KB-001', quantity: 0 }],
          },
          codec.sign(mallory, 'r-5', Date.now(), 'inventory'),
        );

        const line = await stack.inventory.waitForLine(
          /Event ".*order.created" failed: 400/,
        );

        expect(line).toContain('quantity must not be less than 1');
      } finally {
        await inventory.close();
      }
    });

    if (stack.transport === 'tcp') {
      it('survives hostile pattern and id values', async () => {
        const deep = `${'['.repeat(50_000)}"x"${']'.repeat(50_000)}`;
        const hostile = `{"pattern":${deep},"id":${deep},"data":{}}`;
        const socket = await openSocket(Number(stack.env.ORDERS_PORT));
        socket.write(`${hostile.length}#${hostile}`);
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 200));
        socket.destroy();

        const answer = await orders.request(
          'orders.list',
          {},
          codec.sign(mallory, 'r-6', Date.now(), 'orders'),
        );

        expect(answer.err).toBeUndefined();
        expect(Array.isArray(answer.response)).toBe(true);
        expect(
          stack.orders.lines.some((line) =>
            line.includes('Rejected message (object pattern)'),
          ),
        ).toBe(true);
        expect(
          stack.orders.lines.some((line) =>
            line.includes('Maximum call stack'),
          ),
        ).toBe(false);
      });

      it('closes a connection that sends an oversized packet', async () => {
        const socket = await openSocket(Number(stack.env.ORDERS_PORT));
        const closed = new Promise<void>((resolveClose) =>
          socket.once('close', () => resolveClose()),
        );
        socket.on('error', () => undefined);

        const started = Date.now();
        socket.write(`${2 * 1024 * 1024}#${'x'.repeat(1024 * 1024 + 16)}`);
        await closed;

        // Nest's own limit is 128 Mi characters: without the 1 MiB limit the
        // socket would stay open until the incomplete-message timeout.
        expect(Date.now() - started).toBeLessThan(5000);
        const answer = await orders.request(
          'orders.list',
          {},
          codec.sign(mallory, 'r-7', Date.now(), 'orders'),
        );
        expect(answer.err).toBeUndefined();
      });
    } else if (stack.transport === 'grpc') {
      it('rejects an oversized message and keeps serving', async () => {
        const answer = await orders.request(
          'orders.create',
          { items: [{ sku: 'x'.repeat(2 * 1024 * 1024), quantity: 1 }] },
          codec.sign(mallory, 'r-6', Date.now(), 'orders'),
        );

        expect(answer.err).toBeDefined();
        const after = await orders.request(
          'orders.list',
          {},
          codec.sign(mallory, 'r-7', Date.now(), 'orders'),
        );
        expect(after.err).toBeUndefined();
        expect(Array.isArray(after.response)).toBe(true);
      });
    } else {
      it('drops an unreadable message and keeps serving', async () => {
        await orders.publishRaw?.(
          'orders.list',
          'not json {',
          codec.sign(mallory, 'r-6', Date.now(), 'orders'),
        );
        await orders.publishRaw?.('orders.list', 'not json either', undefined);

        const answer = await orders.request(
          'orders.list',
          {},
          codec.sign(mallory, 'r-7', Date.now(), 'orders'),
        );

        expect(orders.publishRaw).toBeDefined();
        expect(answer.err).toBeUndefined();
        expect(Array.isArray(answer.response)).toBe(true);
      });
    }

    it('ignores a reservation result from another user', async () => {
      const created = await stack.request('POST', '/orders', {
        token: stack.token({ sub: 'frank', permissions: BUYER }),
        body: { items: [{ sku: 'LS-005', quantity: 1 }] },
      });
      await eventually(async () => {
        const lines = stack.orders
          .auditLines()
          .filter((line) => line.resourceId === created.body.id);
        return lines.length === 2 ? true : undefined;
      });

      await orders.emit(
        'order.reservation-result',
        { orderId: created.body.id, status: 'confirmed' },
        codec.sign(mallory, 'r-4', Date.now(), 'orders'),
      );
      const line = await stack.orders.waitForLine(
        /sent as another user; ignored/,
      );

      // The warning carries the request id of the message that caused it.
      expect(line).toContain('[request r-4]');

      const order = await stack.request('GET', `/orders/${created.body.id}`, {
        token: stack.token({ sub: 'frank', permissions: BUYER }),
      });
      expect(order.body.status).toBe('rejected');
    });
  });

  describe('service outages', () => {
    const brokered = ['nats', 'rmq', 'redis'].includes(stack.transport);
    // RabbitMQ keeps a request in the queue, and Redis pub/sub drops it,
    // without telling the sender that no service listens: only the timeout
    // does. TCP and gRPC see the refused connection, NATS its "no responders".
    const waitsForTimeout = ['rmq', 'redis'].includes(stack.transport);

    it('returns 503 while orders is down, then recovers with its data', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });
      expect(created.status).toBe(201);
      // Let inventory reply first: a result sent while orders is down is lost.
      await eventually(async () => {
        const result = await stack.request(
          'GET',
          `/orders/${created.body.id}`,
          { token: alice() },
        );
        return result.body.status === 'confirmed' ? true : undefined;
      });
      await stack.orders.stop();

      const started = Date.now();
      const down = await stack.request('GET', `/orders/${created.body.id}`, {
        token: alice(),
      });
      const elapsed = Date.now() - started;

      expect(down.status).toBe(503);
      if (waitsForTimeout) {
        expect(down.body).toEqual({
          statusCode: 503,
          message: `The orders service did not respond within ${stack.env.RPC_TIMEOUT_MS} ms.`,
          error: 'Service Unavailable',
        });
      } else {
        expect(down.body).toEqual({
          statusCode: 503,
          message: 'The orders service is unreachable.',
          error: 'Service Unavailable',
        });
        expect(elapsed).toBeLessThan(Number(stack.env.RPC_TIMEOUT_MS));
      }

      stack.orders = new AppProcess('orders', stack.env);
      await stack.orders.start();
      const back = await eventually(async () => {
        const result = await stack.request(
          'GET',
          `/orders/${created.body.id}`,
          { token: alice() },
        );
        return result.status === 200 ? result : undefined;
      });

      expect(back.body).toEqual(
        expect.objectContaining({
          id: created.body.id,
          createdBy: 'alice',
          status: 'confirmed',
        }),
      );
    });

    it('keeps inventory data across a restart', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'MN-003', quantity: 2 }] },
      });
      await eventually(async () => {
        const result = await stack.request(
          'GET',
          `/orders/${created.body.id}`,
          { token: alice() },
        );
        return result.body.status === 'confirmed' ? true : undefined;
      });
      const before = await stack.request('GET', '/inventory/MN-003', {
        token: alice(),
      });

      await stack.inventory.stop();
      stack.inventory = new AppProcess('inventory', stack.env);
      await stack.inventory.start();
      const after = await eventually(async () => {
        const result = await stack.request('GET', '/inventory/MN-003', {
          token: alice(),
        });
        return result.status === 200 ? result : undefined;
      });
      const reservations = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${created.body.id}`,
        { token: alice() },
      );

      expect(after.body).toEqual(before.body);
      expect(reservations.body).toEqual([
        expect.objectContaining({ reservedBy: 'alice', quantity: 2 }),
      ]);
    });

    it('returns 502 when gateway and service keys differ', async () => {
      const port = await freePort();
      const gateway = new AppProcess('gateway', {
        ...stack.env,
        GATEWAY_PORT: String(port),
        USER_CONTEXT_SECRET: 'a-different-context-secret-0123456789abcdef',
      });
      await gateway.start();
      try {
        const response = await fetch(`http://127.0.0.1:${port}/orders`, {
          headers: {
            authorization: `Bearer ${alice()}`,
            'x-request-id': 'key-mismatch-1',
          },
        });

        expect(response.status).toBe(502);
        expect(await response.json()).toEqual({
          statusCode: 502,
          message: "The orders service rejected the gateway's request.",
          error: 'Bad Gateway',
        });
        const line = await gateway.waitForLine(
          /orders rejected the user context/,
        );
        expect(line).toContain('[request key-mismatch-1]');
        // The service cannot trust the envelope, so it logs no request id from it.
        const rejection = await stack.orders.waitForLine(
          /Rejected message .*orders.list.*signature/,
        );
        expect(rejection).not.toContain('key-mismatch-1');
      } finally {
        await gateway.stop();
      }
    });

    if (brokered) {
      it('returns 503 fast when the broker is unreachable', async () => {
        const port = await freePort();
        const closed = await freePort();
        const gateway = new AppProcess('gateway', {
          ...stack.env,
          GATEWAY_PORT: String(port),
          NATS_URL: `nats://127.0.0.1:${closed}`,
          RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${closed}`,
          REDIS_URL: `redis://127.0.0.1:${closed}`,
        });
        await gateway.start();
        try {
          const started = Date.now();
          const response = await fetch(`http://127.0.0.1:${port}/orders`, {
            headers: { authorization: `Bearer ${alice()}` },
          });

          expect(response.status).toBe(503);
          expect(await response.json()).toEqual({
            statusCode: 503,
            message: 'The orders service is unreachable.',
            error: 'Service Unavailable',
          });
          expect(Date.now() - started).toBeLessThan(
            Number(stack.env.RPC_TIMEOUT_MS),
          );
        } finally {
          await gateway.stop();
        }
      });
    }

    if (stack.transport === 'nats') {
      it('drops a garbage reply on the gateway inbox', async () => {
        // A gateway in a namespace of its own, where the only responder
        // replies to every request with bytes that are not JSON.
        const env: NodeJS.ProcessEnv = {
          ...stack.env,
          ...transportEnv('nats'),
          RPC_TIMEOUT_MS: '500',
        };
        const liar = await answerWithGarbage(
          stack.env.NATS_URL,
          `${env.BROKER_NAMESPACE}.>`,
        );
        const port = await freePort();
        const gateway = new AppProcess('gateway', {
          ...env,
          GATEWAY_PORT: String(port),
        });
        await gateway.start();
        try {
          const call = () =>
            fetch(`http://127.0.0.1:${port}/orders`, {
              headers: { authorization: `Bearer ${alice()}` },
            });

          expect((await call()).status).toBe(503);
          await gateway.waitForLine(/Dropped an unreadable NATS reply/);
          expect((await call()).status).toBe(503);
        } finally {
          await gateway.stop();
          await liar.close();
        }
      });
    }

    if (stack.transport === 'rmq') {
      it('drops a request that expired in the queue', async () => {
        const late = stack.token({ sub: 'late', permissions: BUYER });
        await stack.orders.stop();

        const created = await stack.request('POST', '/orders', {
          token: late,
          body: { items: [{ sku: 'CB-004', quantity: 1 }] },
        });
        stack.orders = new AppProcess('orders', stack.env);
        await stack.orders.start();
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 500));
        const orders = await stack.request('GET', '/orders', { token: late });

        expect(created.status).toBe(503);
        expect(orders.body).toEqual([]);
      });

      it('survives a reply queue that refuses messages', async () => {
        const refusing = await refusingQueue(
          stack.env.RABBITMQ_URL,
          `${stack.env.BROKER_NAMESPACE}.refusing`,
        );
        try {
          await refusing.request(
            `${stack.env.BROKER_NAMESPACE}.orders`,
            'orders.list',
          );
          await stack.orders.waitForLine(/Could not send a reply/);

          const after = await stack.request('GET', '/orders', {
            token: alice(),
          });
          expect(after.status).toBe(200);
        } finally {
          await refusing.close();
        }
      });
    }

    describe('with a service that never answers', () => {
      let silent: Server;
      const sockets = new Set<Socket>();
      let gateway: AppProcess;
      let gatewayPort: number;
      let silentBroker: { close(): Promise<void> } | undefined;
      const silentEnv = brokered ? transportEnv(stack.transport) : {};

      beforeAll(async () => {
        if (stack.transport === 'nats') {
          // A subscriber that takes every request of the namespace and never
          // replies, so NATS has a responder and reports no "no responders".
          silentBroker = await subscribeSilently(
            stack.env.NATS_URL,
            `${silentEnv.BROKER_NAMESPACE}.>`,
          );
        }
        silent = createServer((socket) => sockets.add(socket));
        const silentPort = await freePort();
        await new Promise<void>((resolveListen) =>
          silent.listen(silentPort, '127.0.0.1', resolveListen),
        );
        gatewayPort = await freePort();
        gateway = new AppProcess('gateway', {
          ...stack.env,
          GATEWAY_PORT: String(gatewayPort),
          INVENTORY_PORT: String(silentPort),
          RPC_TIMEOUT_MS: '500',
          // On a broker, a namespace in which no service replies.
          ...silentEnv,
        });
        await gateway.start();
      });

      afterAll(async () => {
        await gateway.stop();
        await silentBroker?.close();
        sockets.forEach((socket) => socket.destroy());
        await new Promise((resolveClose) => silent.close(resolveClose));
        if (stack.transport === 'rmq') {
          // The silent gateway's clients declared both queues.
          await deleteRmqQueues(stack.env.RABBITMQ_URL, [
            `${silentEnv.BROKER_NAMESPACE}.orders`,
            `${silentEnv.BROKER_NAMESPACE}.inventory`,
          ]);
        }
      });

      it('returns 503 after RPC_TIMEOUT_MS', async () => {
        const started = Date.now();
        const response = await fetch(
          `http://127.0.0.1:${gatewayPort}/inventory`,
          {
            headers: { authorization: `Bearer ${alice()}` },
          },
        );
        const elapsed = Date.now() - started;

        expect(response.status).toBe(503);
        expect(await response.json()).toEqual({
          statusCode: 503,
          message: 'The inventory service did not respond within 500 ms.',
          error: 'Service Unavailable',
        });
        expect(elapsed).toBeGreaterThanOrEqual(450);
      });
    });
  });
});

function openSocket(port: number): Promise<Socket> {
  return new Promise<Socket>((resolveSocket, reject) => {
    const client = new Socket();
    client.connect(port, '127.0.0.1', () => resolveSocket(client));
    client.once('error', reject);
  });
}

describe(onTransport('production start-up'), () => {
  const base = {
    PATH: process.env.PATH,
    NO_COLOR: '1',
    NODE_ENV: 'production',
  };
  const strong = 'a-random-secret-that-is-long-enough-0123456789';

  const cases: Array<
    [string, 'gateway' | 'orders', NodeJS.ProcessEnv, string]
  > = [
    [
      'gateway without JWT_SECRET',
      'gateway',
      { USER_CONTEXT_SECRET: strong },
      'JWT_SECRET is not set',
    ],
    [
      'gateway with the development JWT_SECRET',
      'gateway',
      {
        JWT_SECRET: 'development-only-jwt-secret-change-me-0000',
        USER_CONTEXT_SECRET: strong,
      },
      'JWT_SECRET is the built-in development secret',
    ],
    [
      'gateway without USER_CONTEXT_SECRET',
      'gateway',
      { JWT_SECRET: strong },
      'USER_CONTEXT_SECRET is not set',
    ],
    [
      'orders without USER_CONTEXT_SECRET',
      'orders',
      {},
      'USER_CONTEXT_SECRET is not set',
    ],
    [
      'gateway with one secret for both',
      'gateway',
      { JWT_SECRET: strong, USER_CONTEXT_SECRET: strong },
      'JWT_SECRET and USER_CONTEXT_SECRET must differ',
    ],
    [
      'gateway with a short JWT_SECRET',
      'gateway',
      { JWT_SECRET: 'abc', USER_CONTEXT_SECRET: strong },
      'HS256 needs at least 32',
    ],
    [
      'orders with a blank secret',
      'orders',
      { USER_CONTEXT_SECRET: ' '.repeat(40) },
      'contains only whitespace',
    ],
  ];

  it.each(cases)(
    'refuses to start the %s',
    async (_name, app, env, message) => {
      const port = await freePort();
      const process_ = new AppProcess(app, {
        ...base,
        ...env,
        GATEWAY_PORT: String(port),
        ORDERS_PORT: String(port),
      });

      const code = await process_.run();

      expect(code).not.toBe(0);
      expect(process_.lines.some((line) => line.includes(message))).toBe(true);
    },
  );
});

import { eventually, Stack } from './support/stack';
import { onTransport } from './support/transport';

const BUYER = ['orders:create', 'orders:read', 'inventory:read'];

describe(onTransport('orders and inventory flow'), () => {
  const stack = new Stack();
  const alice = () => stack.token({ sub: 'alice', permissions: BUYER });
  const bob = () => stack.token({ sub: 'bob', permissions: BUYER });

  beforeAll(() => stack.start());
  afterAll(() => stack.stop());

  /** Waits until the order is no longer pending and returns it. */
  async function settled(id: string, token: string) {
    return eventually(async () => {
      const result = await stack.request('GET', `/orders/${id}`, { token });
      return result.body.status === 'pending' ? undefined : result.body;
    });
  }

  describe('GET /inventory', () => {
    it('lists the seeded catalog', async () => {
      const result = await stack.request('GET', '/inventory', {
        token: alice(),
      });

      expect(result.status).toBe(200);
      expect(result.body.map((item: { sku: string }) => item.sku)).toEqual([
        'CB-004',
        'KB-001',
        'LS-005',
        'MN-003',
        'MS-002',
      ]);
    });

    it('returns one sku', async () => {
      const result = await stack.request('GET', '/inventory/MN-003', {
        token: alice(),
      });

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        sku: 'MN-003',
        name: '27-inch monitor',
        available: 10,
        reserved: 0,
      });
    });

    it('returns 404 for an unknown sku', async () => {
      const result = await stack.request('GET', '/inventory/NO-SUCH', {
        token: alice(),
      });

      expect(result.status).toBe(404);
      expect(result.body).toEqual({
        statusCode: 404,
        message: 'SKU NO-SUCH was not found.',
        error: 'Not Found',
      });
    });

    it('returns 400 for an invalid sku', async () => {
      const result = await stack.request('GET', '/inventory/bad_sku!', {
        token: alice(),
      });

      expect(result.status).toBe(400);
    });

    it('returns 403 without inventory:read', async () => {
      const token = stack.token({ sub: 'carol', permissions: ['orders:read'] });

      const result = await stack.request('GET', '/inventory', { token });

      expect(result.status).toBe(403);
      expect(result.body).toEqual({
        statusCode: 403,
        message: 'Missing permission: inventory:read.',
        error: 'Forbidden',
      });
    });
  });

  describe('POST /orders', () => {
    it('creates a pending order owned by the caller', async () => {
      const result = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 2 }] },
      });

      expect(result.status).toBe(201);
      expect(result.body).toMatchObject({
        items: [{ sku: 'KB-001', quantity: 2 }],
        status: 'pending',
        createdBy: 'alice',
      });
      expect(result.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(result.body.createdAt))).toBe(false);
    });

    it('confirms and reserves as the caller', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: {
          items: [
            { sku: 'MS-002', quantity: 3 },
            { sku: 'CB-004', quantity: 1 },
          ],
        },
      });

      const order = await settled(created.body.id, alice());
      const reservations = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${created.body.id}`,
        { token: alice() },
      );

      expect(order.status).toBe('confirmed');
      expect(reservations.status).toBe(200);
      expect(reservations.body).toHaveLength(2);
      expect(reservations.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            orderId: created.body.id,
            sku: 'MS-002',
            quantity: 3,
            reservedBy: 'alice',
          }),
          expect.objectContaining({
            orderId: created.body.id,
            sku: 'CB-004',
            quantity: 1,
            reservedBy: 'alice',
          }),
        ]),
      );
    });

    it('moves stock from available to reserved', async () => {
      const before = await stack.request('GET', '/inventory/MN-003', {
        token: alice(),
      });
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'MN-003', quantity: 4 }] },
      });
      await settled(created.body.id, alice());

      const after = await stack.request('GET', '/inventory/MN-003', {
        token: alice(),
      });

      expect(after.body.available).toBe(before.body.available - 4);
      expect(after.body.reserved).toBe(before.body.reserved + 4);
    });

    it('rejects an order short of stock', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: {
          items: [
            { sku: 'CB-004', quantity: 1 },
            { sku: 'LS-005', quantity: 1 },
          ],
        },
      });

      const order = await settled(created.body.id, alice());
      const reservations = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${created.body.id}`,
        { token: alice() },
      );

      expect(order.status).toBe('rejected');
      expect(reservations.body).toEqual([]);
    });

    it('rejects an order for an unknown sku', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'ZZ-999', quantity: 1 }] },
      });

      const order = await settled(created.body.id, alice());

      expect(order.status).toBe('rejected');
    });

    it('returns 403 without orders:create', async () => {
      const token = stack.token({ sub: 'dave', permissions: ['orders:read'] });

      const result = await stack.request('POST', '/orders', {
        token,
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });
      const list = await stack.request('GET', '/orders', { token });

      expect(result.status).toBe(403);
      expect(result.body).toEqual({
        statusCode: 403,
        message: 'Missing permission: orders:create.',
        error: 'Forbidden',
      });
      expect(list.body).toEqual([]);
    });

    const invalidBodies: Array<[string, unknown]> = [
      ['no items', {}],
      ['an empty item list', { items: [] }],
      ['quantity zero', { items: [{ sku: 'KB-001', quantity: 0 }] }],
      ['a fractional quantity', { items: [{ sku: 'KB-001', quantity: 1.5 }] }],
      ['a string quantity', { items: [{ sku: 'KB-001', quantity: '2' }] }],
      ['a missing sku', { items: [{ quantity: 1 }] }],
      [
        'an unknown field',
        { items: [{ sku: 'KB-001', quantity: 1 }], createdBy: 'mallory' },
      ],
      ['items that are not objects', { items: ['KB-001'] }],
      ['an empty nested array', { items: [[]] }],
      [
        'an item inside a nested array',
        { items: [[{ sku: 'KB-001', quantity: 1 }]] },
      ],
      ['a null item', { items: [null] }],
    ];

    it.each(invalidBodies)(
      'returns 400 for %s and stores nothing',
      async (_name, body) => {
        const token = stack.token({ sub: 'erin', permissions: BUYER });

        const result = await stack.request('POST', '/orders', { token, body });
        const list = await stack.request('GET', '/orders', { token });

        expect(result.status).toBe(400);
        expect(result.body.statusCode).toBe(400);
        expect(result.body.error).toBe('Bad Request');
        expect(list.body).toEqual([]);
      },
    );

    it('returns 400 for deeply nested JSON', async () => {
      const depth = 5000;
      const response = await fetch(`${stack.baseUrl}/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice()}`,
          'content-type': 'application/json',
        },
        body: `{"items":${'['.repeat(depth)}${']'.repeat(depth)}}`,
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        statusCode: 400,
        message: 'Input is nested deeper than 32 levels.',
        error: 'Bad Request',
      });
    });

    it('returns 400 for malformed JSON', async () => {
      const response = await fetch(`${stack.baseUrl}/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice()}`,
          'content-type': 'application/json',
        },
        body: '{"items": [',
      });

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual(
        expect.objectContaining({ statusCode: 400, error: 'Bad Request' }),
      );
    });

    it('returns 413 for an oversized body', async () => {
      const items = Array.from({ length: 40_000 }, () => ({
        sku: 'KB-001',
        quantity: 1,
      }));

      const result = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items },
      });

      expect(result.status).toBe(413);
      expect(result.body).toEqual(
        expect.objectContaining({
          statusCode: 413,
          error: 'Payload Too Large',
        }),
      );
    });

    it('returns 401 without a token and stores nothing', async () => {
      const before = await stack.request('GET', '/orders', { token: alice() });

      const result = await stack.request('POST', '/orders', {
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
        headers: { 'x-user-id': 'alice' },
      });
      const after = await stack.request('GET', '/orders', { token: alice() });

      expect(result.status).toBe(401);
      expect(after.body).toHaveLength(before.body.length);
    });
  });

  describe('GET /orders', () => {
    it('lists only the caller orders', async () => {
      await stack.request('POST', '/orders', {
        token: bob(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });

      const result = await stack.request('GET', '/orders', { token: bob() });

      expect(result.status).toBe(200);
      expect(result.body.length).toBeGreaterThan(0);
      expect(
        result.body.every(
          (order: { createdBy: string }) => order.createdBy === 'bob',
        ),
      ).toBe(true);
    });

    it('hides another user order as 404', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });

      const result = await stack.request('GET', `/orders/${created.body.id}`, {
        token: bob(),
      });

      expect(result.status).toBe(404);
      expect(result.body.message).toBe(
        `Order ${created.body.id} was not found.`,
      );
    });

    it('shows any order with orders:read:all', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });
      const auditor = stack.token({
        sub: 'auditor',
        permissions: ['orders:read', 'orders:read:all'],
      });

      const result = await stack.request('GET', `/orders/${created.body.id}`, {
        token: auditor,
      });

      expect(result.status).toBe(200);
      expect(result.body.createdBy).toBe('alice');
    });

    it('returns 404 for an unknown id', async () => {
      const result = await stack.request(
        'GET',
        '/orders/00000000-0000-4000-8000-000000000000',
        {
          token: alice(),
        },
      );

      expect(result.status).toBe(404);
    });

    it('finds an order by upper-case id', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });

      const result = await stack.request(
        'GET',
        `/orders/${created.body.id.toUpperCase()}`,
        {
          token: alice(),
        },
      );

      expect(result.status).toBe(200);
      expect(result.body.id).toBe(created.body.id);
    });

    it('returns 400 for an id that is not a uuid', async () => {
      const result = await stack.request('GET', '/orders/42', {
        token: alice(),
      });

      expect(result.status).toBe(400);
    });

    it('returns 403 without orders:read', async () => {
      const token = stack.token({
        sub: 'alice',
        permissions: ['orders:create'],
      });

      const result = await stack.request('GET', '/orders', { token });

      expect(result.status).toBe(403);
    });
  });

  describe('GET /inventory/reservations', () => {
    it('hides other users reservations', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });
      await settled(created.body.id, alice());
      const reader = stack.token({
        sub: 'mallory',
        permissions: ['inventory:read'],
      });

      const byOrder = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${created.body.id}`,
        {
          token: reader,
        },
      );
      const all = await stack.request('GET', '/inventory/reservations', {
        token: reader,
      });

      expect(byOrder.status).toBe(200);
      expect(byOrder.body).toEqual([]);
      expect(all.body).toEqual([]);
    });

    it('shows every reservation with inventory:read:all', async () => {
      const created = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
      });
      await settled(created.body.id, alice());
      const clerk = stack.token({
        sub: 'clerk',
        permissions: ['inventory:read', 'inventory:read:all'],
      });

      const result = await stack.request(
        'GET',
        `/inventory/reservations?orderId=${created.body.id}`,
        {
          token: clerk,
        },
      );

      expect(result.body).toEqual([
        expect.objectContaining({ reservedBy: 'alice', sku: 'KB-001' }),
      ]);
    });

    it('returns 400 for an invalid orderId', async () => {
      const result = await stack.request(
        'GET',
        '/inventory/reservations?orderId=1%20OR%201=1',
        {
          token: alice(),
        },
      );

      expect(result.status).toBe(400);
    });
  });

  describe('concurrent users', () => {
    it('keeps every order and reservation with its caller', async () => {
      const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
      const requests = Array.from({ length: 40 }, (_, index) => {
        const user = users[index % users.length];
        return stack
          .request('POST', '/orders', {
            token: stack.token({ sub: user, permissions: BUYER }),
            body: { items: [{ sku: 'CB-004', quantity: 1 }] },
          })
          .then((result) => ({ user, result }));
      });

      const created = await Promise.all(requests);

      for (const { user, result } of created) {
        expect(result.status).toBe(201);
        expect(result.body.createdBy).toBe(user);
      }
      for (const { user, result } of created) {
        const token = stack.token({ sub: user, permissions: BUYER });
        const order = await settled(result.body.id, token);
        const reservations = await stack.request(
          'GET',
          `/inventory/reservations?orderId=${result.body.id}`,
          { token },
        );
        expect(order.status).toBe('confirmed');
        expect(
          reservations.body.map(
            (row: { reservedBy: string }) => row.reservedBy,
          ),
        ).toEqual([user]);
      }
    });
  });

  describe('audit trail', () => {
    it('records each change with user and request id', async () => {
      const result = await stack.request('POST', '/orders', {
        token: alice(),
        body: { items: [{ sku: 'KB-001', quantity: 1 }] },
        headers: { 'x-request-id': 'audit-trail-1' },
      });
      await settled(result.body.id, alice());

      const orderLines = () =>
        stack.orders
          .auditLines()
          .filter((line) => line.resourceId === result.body.id);
      const inventoryLines = stack.inventory
        .auditLines()
        .filter((line) => line.resourceId === result.body.id);
      await eventually(async () =>
        orderLines().length === 2 ? true : undefined,
      );

      expect(orderLines()).toEqual([
        expect.objectContaining({
          action: 'order.create',
          userId: 'alice',
          requestId: 'audit-trail-1',
          outcome: 'success',
        }),
        expect.objectContaining({
          action: 'order.status',
          userId: 'alice',
          requestId: 'audit-trail-1',
          outcome: 'success',
        }),
      ]);
      expect(inventoryLines).toEqual([
        expect.objectContaining({
          action: 'inventory.reserve',
          userId: 'alice',
          requestId: 'audit-trail-1',
          outcome: 'confirmed',
        }),
      ]);
    });

    it('contains no token or secret', () => {
      const lines = [
        ...stack.orders.lines,
        ...stack.inventory.lines,
        ...stack.gateway.lines,
      ];

      expect(lines.some((line) => line.includes(stack.jwtSecret))).toBe(false);
      expect(lines.some((line) => line.includes(stack.contextSecret))).toBe(
        false,
      );
      expect(lines.some((line) => line.includes('eyJ'))).toBe(false);
      expect(lines.some((line) => line.includes('v1.k1.'))).toBe(false);
    });
  });
});

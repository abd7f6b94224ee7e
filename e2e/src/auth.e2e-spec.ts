import { connect } from 'node:net';

import { Stack } from './support/stack';
import { onTransport } from './support/transport';

const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Builds an unsigned token by hand, as an attacker would. */
function unsignedToken(claims: Record<string, unknown>): string {
  const encode = (value: unknown) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** Sends a raw HTTP/1.1 request, so that headers can repeat, and returns the status code. */
function rawStatus(port: number, headers: string[]): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        [
          'GET /me HTTP/1.1',
          'Host: 127.0.0.1',
          'Connection: close',
          ...headers,
          '',
          '',
        ].join('\r\n'),
      );
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolveStatus(Number(text.split(' ')[1])));
    socket.on('error', reject);
  });
}

describe(onTransport('gateway authentication'), () => {
  const stack = new Stack();

  beforeAll(async () => {
    await stack.start({
      JWT_ISSUER: 'https://id.example.test',
      JWT_AUDIENCE: 'platform-api',
    });
  });

  afterAll(() => stack.stop());

  const claims = {
    sub: 'alice',
    email: 'alice@example.com',
    roles: ['buyer'],
    permissions: ['orders:read'],
  };
  const valid = () =>
    stack.token(claims, {
      issuer: 'https://id.example.test',
      audience: 'platform-api',
    });

  describe('GET /health', () => {
    it('returns without a token', async () => {
      const result = await stack.request('GET', '/health');

      expect(result.status).toBe(200);
      expect(result.body).toEqual({ status: 'ok' });
    });
  });

  describe('GET /me', () => {
    it('returns the mapped context', async () => {
      const token = stack.token(
        { ...claims, scope: 'inventory:read orders:read' },
        { issuer: 'https://id.example.test', audience: 'platform-api' },
      );

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        userId: 'alice',
        email: 'alice@example.com',
        roles: ['buyer'],
        permissions: ['orders:read', 'inventory:read'],
      });
    });

    it('maps missing roles to empty lists', async () => {
      const token = stack.token(
        { sub: 'bob' },
        { issuer: 'https://id.example.test', audience: 'platform-api' },
      );

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        userId: 'bob',
        email: null,
        roles: [],
        permissions: [],
      });
    });

    it('ignores client identity headers', async () => {
      const result = await stack.request('GET', '/me', {
        token: valid(),
        headers: {
          'x-user-id': 'mallory',
          'x-user-permissions': 'orders:read:all',
        },
      });

      expect(result.status).toBe(200);
      expect(result.body.userId).toBe('alice');
      expect(result.body.permissions).toEqual(['orders:read']);
    });

    it('rejects identity headers without a token', async () => {
      const result = await stack.request('GET', '/me', {
        headers: { 'x-user-id': 'alice', 'x-user-context': 'v1.k1.e30.AAAA' },
      });

      expect(result.status).toBe(401);
    });
  });

  describe('rejected tokens', () => {
    const cases: Array<
      [string, () => string | undefined, Record<string, string>?]
    > = [
      ['no token', () => undefined],
      [
        'a token signed with another secret',
        () => {
          const jwt = require('jsonwebtoken');
          return jwt.sign(claims, 'another-secret-another-secret-00', {
            expiresIn: 300,
            issuer: 'https://id.example.test',
            audience: 'platform-api',
          });
        },
      ],
      [
        'an expired token',
        () =>
          stack.token(claims, {
            expiresIn: -120,
            issuer: 'https://id.example.test',
            audience: 'platform-api',
          }),
      ],
      [
        'a token with alg none',
        () =>
          unsignedToken({
            ...claims,
            iss: 'https://id.example.test',
            aud: 'platform-api',
            exp: Math.floor(Date.now() / 1000) + 300,
          }),
      ],
      [
        'a token signed with HS512',
        () =>
          stack.token(claims, {
            algorithm: 'HS512',
            issuer: 'https://id.example.test',
            audience: 'platform-api',
          }),
      ],
      [
        'a token without exp',
        () =>
          require('jsonwebtoken').sign(claims, stack.jwtSecret, {
            issuer: 'https://id.example.test',
            audience: 'platform-api',
          }),
      ],
      [
        'a token without sub',
        () =>
          stack.token(
            { permissions: ['orders:read'] },
            { issuer: 'https://id.example.test', audience: 'platform-api' },
          ),
      ],
      [
        'a token with an empty sub',
        () =>
          stack.token(
            { sub: '' },
            { issuer: 'https://id.example.test', audience: 'platform-api' },
          ),
      ],
      [
        'a token from another issuer',
        () =>
          stack.token(claims, {
            issuer: 'https://evil.example.test',
            audience: 'platform-api',
          }),
      ],
      [
        'a token for another audience',
        () =>
          stack.token(claims, {
            issuer: 'https://id.example.test',
            audience: 'other-api',
          }),
      ],
      ['a malformed token', () => 'not.a.jwt'],
    ];

    it.each(cases)('returns 401 for %s', async (_name, makeToken) => {
      const token = makeToken();

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(401);
      expect(result.body.statusCode).toBe(401);
      expect(result.body.error).toBe('Unauthorized');
      expect(typeof result.body.message).toBe('string');
      if (token) {
        expect(JSON.stringify(result.body)).not.toContain(token);
      }
    });

    it('returns 401 for two Authorization headers', async () => {
      const port = Number(stack.env.GATEWAY_PORT);
      const single = await rawStatus(port, [
        `Authorization: Bearer ${valid()}`,
      ]);
      const repeated = await rawStatus(port, [
        `Authorization: Bearer ${valid()}`,
        'Authorization: Bearer not.a.token',
      ]);

      expect(single).toBe(200);
      expect(repeated).toBe(401);
    });

    it.each([
      ['a query token', '?access_token=x', {}],
      ['an array-style query token', '?access_token[]=x', {}],
      ['a token after a semicolon', '?a=1;access_token=x', {}],
      ['a percent-encoded name', '?access%5Ftoken=x', {}],
      ['a cookie token', '', { cookie: 'access_token=x' }],
      ['a cookie with a space before "="', '', { cookie: 'access_token =x' }],
      ['a comma-separated cookie', '', { cookie: 'a=1,access_token=x' }],
    ])('returns 401 for a header plus %s', async (_name, query, headers) => {
      const result = await stack.request('GET', `/me${query}`, {
        token: valid(),
        headers: headers as Record<string, string>,
      });

      expect(result.status).toBe(401);
      expect(result.body.message).toContain('Send exactly one credential');
    });

    it('returns 401 for a sub with control characters', async () => {
      const token = stack.token(
        { sub: 'alice\r\nx-admin: 1' },
        { issuer: 'https://id.example.test', audience: 'platform-api' },
      );

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(401);
    });

    it('returns 401 for a context too large to forward', async () => {
      const scope = Array.from({ length: 1700 }, (_, index) =>
        index.toString(36),
      ).join(' ');
      const token = stack.token(
        { sub: 'alice', permissions: ['orders:read'], scope },
        { issuer: 'https://id.example.test', audience: 'platform-api' },
      );

      const me = await stack.request('GET', '/me', { token });
      const orders = await stack.request('GET', '/orders', { token });

      expect(token.length).toBeLessThan(8192);
      expect(me.status).toBe(200);
      expect(orders.status).toBe(401);
      expect(orders.body.message).toBe(
        'The token carries too many roles or permissions to forward to services.',
      );
    });

    it('returns 401 for a non-bearer scheme', async () => {
      const result = await stack.request('GET', '/me', {
        headers: {
          authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}`,
        },
      });

      expect(result.status).toBe(401);
    });

    it('never logs the token', async () => {
      const token = stack.token(claims, { expiresIn: -120 });

      await stack.request('GET', '/me', { token });

      const everything = [stack.gateway, stack.orders, stack.inventory].flatMap(
        (app) => app.lines,
      );
      expect(everything.some((line) => line.includes(token))).toBe(false);
    });
  });

  describe('x-request-id', () => {
    it('is generated when absent', async () => {
      const result = await stack.request('GET', '/health');

      expect(result.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    });

    it('echoes a well-formed client id', async () => {
      const result = await stack.request('GET', '/me', {
        token: valid(),
        headers: { 'x-request-id': 'client-req-42' },
      });

      expect(result.headers.get('x-request-id')).toBe('client-req-42');
    });

    it('replaces a malformed client id', async () => {
      const result = await stack.request('GET', '/me', {
        token: valid(),
        headers: { 'x-request-id': 'x'.repeat(200) },
      });

      expect(result.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    });

    it('is set on 401 answers', async () => {
      const result = await stack.request('GET', '/me');

      expect(result.status).toBe(401);
      expect(result.headers.get('x-request-id')).toMatch(UUID_PATTERN);
    });
  });
});

import * as jose from 'jose';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo, createServer as createTcpServer, Socket } from 'node:net';

import { AppProcess, freePort } from './support/processes';
import { HttpResult, Stack } from './support/stack';
import { onTransport } from './support/transport';

const AUDIENCE = 'platform-api';
const DISCOVERY_PATH = '/.well-known/openid-configuration';
const JWKS_PATH = '/protocol/openid-connect/certs';
/** `JWKS_TIMEOUT_MS` of every gateway in this file. */
const KEY_FETCH_TIMEOUT_MS = 1000;

type Algorithm = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

const ALICE = {
  sub: 'alice',
  email: 'alice@example.com',
  roles: ['buyer'],
  permissions: ['orders:read'],
};

/** What GET /me returns for a token with the claims of `ALICE`. */
const ALICE_ON_ME = {
  userId: 'alice',
  email: 'alice@example.com',
  roles: ['buyer'],
  permissions: ['orders:read'],
};

/** A key pair of the provider. `jwk` is the public key as the JWKS serves it. */
interface SigningKey {
  kid: string;
  alg: Algorithm;
  privateKey: jose.KeyLike;
  publicKey: jose.KeyLike;
  jwk: jose.JWK;
}

async function createSigningKey(
  alg: Algorithm,
  kid: string,
): Promise<SigningKey> {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg);
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

/**
 * An OpenID Connect provider on 127.0.0.1: the discovery document, a JWKS
 * of `keys`, and token minting. It records the path of every request.
 */
class IdentityProvider {
  keys: SigningKey[] = [];
  readonly requestPaths: string[] = [];
  private readonly server = createServer((request, response) =>
    this.handle(request, response),
  );
  private port = 0;

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts listening: on a free port the first time, on that same port after `stop`. */
  async start(): Promise<void> {
    if (this.server.listening) {
      return;
    }
    await new Promise<void>((resolveListen, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolveListen();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops open connections, as a crashed provider would. */
  async stop(): Promise<void> {
    if (!this.server.listening) {
      return;
    }
    const closed = new Promise<void>((resolveClose) =>
      this.server.close(() => resolveClose()),
    );
    this.server.closeAllConnections();
    await closed;
  }

  countRequests(path: string): number {
    return this.requestPaths.filter((requested) => requested === path).length;
  }

  /**
   * Builds the claims of a token: `ALICE` with this issuer, the audience, a
   * 5-minute lifetime and a fresh `jti`. `overrides` replaces claims, and an
   * `undefined` value removes one.
   */
  claims(overrides: Record<string, unknown> = {}): jose.JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: AUDIENCE,
      iat: now,
      exp: now + 300,
      jti: randomUUID(),
      ...ALICE,
      ...overrides,
    };
    return Object.fromEntries(
      Object.entries(claims).filter(([, value]) => value !== undefined),
    );
  }

  /** Signs a token with `key`, over the claims that `claims` builds from `overrides`. */
  mint(
    key: SigningKey,
    overrides: Record<string, unknown> = {},
  ): Promise<string> {
    return new jose.SignJWT(this.claims(overrides))
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', this.issuer).pathname;
    this.requestPaths.push(path);
    if (path === DISCOVERY_PATH) {
      sendJson(response, 200, {
        issuer: this.issuer,
        jwks_uri: `${this.issuer}${JWKS_PATH}`,
        id_token_signing_alg_values_supported: [
          'RS256',
          'PS256',
          'ES256',
          'EdDSA',
        ],
      });
    } else if (path === JWKS_PATH) {
      sendJson(response, 200, { keys: this.keys.map((key) => key.jwk) });
    } else {
      sendJson(response, 404, { error: 'not_found' });
    }
  }
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** A TCP server on 127.0.0.1 that accepts connections and never sends a byte. */
class SilentServer {
  private readonly sockets = new Set<Socket>();
  private readonly server = createTcpServer((socket) => {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
  });

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  start(): Promise<void> {
    return new Promise((resolveListen) =>
      this.server.listen(0, '127.0.0.1', resolveListen),
    );
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise((resolveClose) => this.server.close(resolveClose));
  }
}

/** Builds an unsigned token by hand, as an attacker would. */
function unsignedToken(claims: jose.JWTPayload, kid: string): string {
  const encode = (value: unknown) =>
    Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'none', typ: 'JWT', kid })}.${encode(claims)}.`;
}

/** Signs `claims` with HS256 and `secret`, as if the provider's public key were a shared key. */
function hmacToken(
  claims: jose.JWTPayload,
  secret: string,
  kid: string,
): Promise<string> {
  return new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid, typ: 'JWT' })
    .sign(new TextEncoder().encode(secret));
}

/** Sends GET /me to the gateway on `port`. */
async function getMe(port: number, token: string): Promise<HttpResult> {
  const response = await fetch(`http://127.0.0.1:${port}/me`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the raw text is kept for the assertion message.
  }
  return { status: response.status, body, headers: response.headers };
}

/** Checks Nest's error shape, and that the body contains neither `token` nor its segments. */
function expectError(
  result: HttpResult,
  status: 401 | 503,
  token: string,
): void {
  expect(result.status).toBe(status);
  expect(result.body.statusCode).toBe(status);
  expect(result.body.error).toBe(
    status === 401 ? 'Unauthorized' : 'Service Unavailable',
  );
  expect(typeof result.body.message).toBe('string');
  const text = JSON.stringify(result.body);
  expect(text).not.toContain(token);
  for (const part of token.split('.').filter((segment) => segment.length > 0)) {
    expect(text).not.toContain(part);
  }
}

describe(onTransport('gateway with an OpenID Connect provider'), () => {
  const provider = new IdentityProvider();
  const silentProvider = new SilentServer();
  const stack = new Stack();
  const keys = {} as Record<Algorithm, SigningKey>;
  const extraGateways: AppProcess[] = [];

  /** Starts one more gateway on a free port, with the stack's variables plus `overrides`. */
  async function startGateway(overrides: NodeJS.ProcessEnv): Promise<number> {
    const port = await freePort();
    const gateway = new AppProcess('gateway', {
      ...stack.env,
      ...overrides,
      GATEWAY_PORT: String(port),
    });
    extraGateways.push(gateway);
    await gateway.start();
    return port;
  }

  let keycloakPort: number;
  let auth0Port: number;
  let azurePort: number;
  let silentPort: number;

  beforeAll(async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
      keys[alg] = await createSigningKey(alg, `${alg.toLowerCase()}-1`);
    }
    provider.keys = Object.values(keys);
    await Promise.all([provider.start(), silentProvider.start()]);
    await stack.start({
      JWT_SECRET: '',
      OIDC_ISSUER: provider.issuer,
      JWT_AUDIENCE: AUDIENCE,
      // No cooldown, so every unknown kid fetches the key set again at once.
      JWKS_COOLDOWN_SECONDS: '0',
      JWKS_TIMEOUT_MS: String(KEY_FETCH_TIMEOUT_MS),
    });
    [keycloakPort, auth0Port, azurePort, silentPort] = await Promise.all([
      startGateway({
        CLAIMS_PRESET: 'keycloak',
        CLAIMS_CLIENT_ID: 'platform-web',
      }),
      startGateway({
        CLAIMS_PRESET: 'auth0',
        CLAIMS_NAMESPACE: 'https://platform.example/',
      }),
      startGateway({ CLAIMS_PRESET: 'azure' }),
      startGateway({ OIDC_ISSUER: silentProvider.url }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(extraGateways.map((gateway) => gateway.stop()));
    await stack.stop();
    await Promise.all([provider.stop(), silentProvider.stop()]);
  });

  describe('signed tokens', () => {
    it.each(['RS256', 'PS256', 'ES256', 'EdDSA'] as const)(
      'accepts %s',
      async (alg) => {
        const token = await provider.mint(keys[alg]);

        const result = await stack.request('GET', '/me', { token });

        expect(result.status).toBe(200);
        expect(result.body).toEqual(ALICE_ON_ME);
      },
    );

    it('accepts a rotated key at once', async () => {
      const oldKey = await createSigningKey('RS256', 'rotation-1');
      const newKey = await createSigningKey('RS256', 'rotation-2');
      provider.keys = [...provider.keys, oldKey];
      const before = await stack.request('GET', '/me', {
        token: await provider.mint(oldKey),
      });
      expect(before.status).toBe(200);

      // The provider publishes the new key and withdraws the old one in one step.
      provider.keys = [
        ...provider.keys.filter((key) => key !== oldKey),
        newKey,
      ];
      const rotated = await stack.request('GET', '/me', {
        token: await provider.mint(newKey),
      });
      const oldToken = await provider.mint(oldKey);
      const retired = await stack.request('GET', '/me', { token: oldToken });

      expect(rotated.status).toBe(200);
      expect(rotated.body).toEqual(ALICE_ON_ME);
      expectError(retired, 401, oldToken);
    });
  });

  describe('rejected tokens', () => {
    const cases: Array<[string, () => Promise<string>, string]> = [
      [
        'alg none',
        async () => unsignedToken(provider.claims(), keys.RS256.kid),
        'Invalid token: its algorithm is not accepted.',
      ],
      [
        'HS256 keyed with the PEM public key',
        async () =>
          hmacToken(
            provider.claims(),
            await jose.exportSPKI(keys.RS256.publicKey),
            keys.RS256.kid,
          ),
        'Invalid token: its algorithm is not accepted.',
      ],
      [
        'HS256 keyed with the JWK',
        () =>
          hmacToken(
            provider.claims(),
            JSON.stringify(keys.RS256.jwk),
            keys.RS256.kid,
          ),
        'Invalid token: its algorithm is not accepted.',
      ],
      [
        'unknown kid',
        async () => provider.mint(await createSigningKey('ES256', 'unknown-1')),
        'Invalid token: no key of the identity provider matches it.',
      ],
      [
        'wrong issuer',
        () => provider.mint(keys.ES256, { iss: 'https://id.example.test' }),
        'Invalid token: issuer is not accepted.',
      ],
      [
        'wrong audience',
        () => provider.mint(keys.ES256, { aud: 'other-api' }),
        'Invalid token: audience is not accepted.',
      ],
      [
        'expired',
        () => {
          const now = Math.floor(Date.now() / 1000);
          return provider.mint(keys.ES256, { iat: now - 600, exp: now - 120 });
        },
        'Token has expired.',
      ],
      [
        'not yet valid',
        () =>
          provider.mint(keys.ES256, {
            nbf: Math.floor(Date.now() / 1000) + 120,
          }),
        'Token is not valid yet.',
      ],
      [
        'missing exp',
        () => provider.mint(keys.ES256, { exp: undefined }),
        'Token has no expiry: the "exp" claim is required.',
      ],
    ];

    it.each(cases)('rejects %s', async (_name, makeToken, message) => {
      const token = await makeToken();

      const result = await stack.request('GET', '/me', { token });

      expectError(result, 401, token);
      expect(result.body.message).toBe(message);
    });

    it('rejects header plus query token', async () => {
      const token = await provider.mint(keys.ES256);

      const result = await stack.request('GET', `/me?access_token=${token}`, {
        token,
      });

      expectError(result, 401, token);
      expect(result.body.message).toContain('Send exactly one credential');
    });

    it('rejects header plus cookie token', async () => {
      const token = await provider.mint(keys.ES256);

      const result = await stack.request('GET', '/me', {
        token,
        headers: { cookie: `theme=dark; access_token=${token}` },
      });

      expectError(result, 401, token);
      expect(result.body.message).toContain('Send exactly one credential');
    });

    it('rejects a query token alone', async () => {
      const token = await provider.mint(keys.ES256);

      const result = await stack.request('GET', `/me?access_token=${token}`);

      expectError(result, 401, token);
      expect(result.body.message).toContain('Missing bearer token');
    });

    it('rejects oversized token without fetching', async () => {
      // An unknown kid, which would make the gateway fetch the key set if it
      // checked the signature before the length.
      const key = await createSigningKey('ES256', 'oversized-1');
      const token = await provider.mint(key, { padding: 'x'.repeat(8192) });
      const requestsBefore = provider.requestPaths.length;

      const result = await stack.request('GET', '/me', { token });

      expect(token.length).toBeGreaterThan(8192);
      expectError(result, 401, token);
      expect(result.body.message).toBe('Token is longer than 8192 characters.');
      expect(provider.requestPaths.length).toBe(requestsBefore);
    });

    it('fetches keys for a short unknown kid', async () => {
      // The control for the test above: an unknown kid in a token of normal length.
      const key = await createSigningKey('ES256', 'oversized-2');
      const token = await provider.mint(key);
      const jwksRequestsBefore = provider.countRequests(JWKS_PATH);

      const result = await stack.request('GET', '/me', { token });

      expectError(result, 401, token);
      expect(provider.countRequests(JWKS_PATH)).toBe(jwksRequestsBefore + 1);
    });
  });

  describe('provider outage', () => {
    /** A key the provider publishes only once it is back. */
    let lateKey: SigningKey;

    beforeAll(async () => {
      lateKey = await createSigningKey('ES256', 'late-1');
      // The gateway fetches the key set now, if no earlier test made it.
      const token = await provider.mint(keys.ES256);
      expect((await stack.request('GET', '/me', { token })).status).toBe(200);
      await provider.stop();
    });

    // Brings the provider back if a failed test left it down.
    afterAll(() => provider.start());

    it('accepts a fetched key while down', async () => {
      const token = await provider.mint(keys.ES256);
      const requestsBefore = provider.requestPaths.length;

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(200);
      expect(result.body).toEqual(ALICE_ON_ME);
      expect(provider.requestPaths.length).toBe(requestsBefore);
    });

    it('returns 503 for an unseen kid', async () => {
      const token = await provider.mint(lateKey);

      const result = await stack.request('GET', '/me', { token });

      expectError(result, 503, token);
    });

    it('accepts that kid once back', async () => {
      const token = await provider.mint(lateKey);
      provider.keys = [...provider.keys, lateKey];
      await provider.start();
      const jwksRequestsBefore = provider.countRequests(JWKS_PATH);

      const result = await stack.request('GET', '/me', { token });

      expect(result.status).toBe(200);
      expect(result.body).toEqual(ALICE_ON_ME);
      expect(provider.countRequests(JWKS_PATH)).toBe(jwksRequestsBefore + 1);
    });
  });

  describe('silent provider', () => {
    it('returns 503 within the timeout', async () => {
      const token = await provider.mint(
        await createSigningKey('ES256', 'silent-1'),
      );
      const startedAt = Date.now();

      const result = await getMe(silentPort, token);
      const elapsedMs = Date.now() - startedAt;

      expectError(result, 503, token);
      expect(elapsedMs).toBeGreaterThanOrEqual(KEY_FETCH_TIMEOUT_MS - 50);
      expect(elapsedMs).toBeLessThan(KEY_FETCH_TIMEOUT_MS + 1500);
    });
  });

  describe('claims presets', () => {
    it('maps Keycloak claims', async () => {
      const token = await provider.mint(keys.RS256, {
        roles: undefined,
        permissions: undefined,
        azp: 'platform-web',
        realm_access: { roles: ['buyer', 'offline_access'] },
        resource_access: {
          'platform-web': { roles: ['orders:read', 'orders:create'] },
          account: { roles: ['manage-account'] },
        },
        scope: 'openid email orders:read',
      });

      const result = await getMe(keycloakPort, token);

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        userId: 'alice',
        email: 'alice@example.com',
        roles: ['buyer', 'offline_access'],
        permissions: ['orders:read', 'orders:create', 'openid', 'email'],
      });
    });

    it('maps Auth0 claims', async () => {
      const token = await provider.mint(keys.RS256, {
        sub: 'auth0|alice',
        email: undefined,
        roles: undefined,
        permissions: ['orders:read', 'inventory:read'],
        scope: 'openid orders:read',
        'https://platform.example/roles': ['buyer'],
        'https://platform.example/email': 'alice@example.com',
      });

      const result = await getMe(auth0Port, token);

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        userId: 'auth0|alice',
        email: 'alice@example.com',
        roles: ['buyer'],
        permissions: ['orders:read', 'inventory:read', 'openid'],
      });
    });

    it('maps Azure claims', async () => {
      const token = await provider.mint(keys.RS256, {
        sub: 'pairwise-subject',
        oid: '00000000-0000-0000-0000-00000000a11c',
        email: undefined,
        preferred_username: 'alice@example.com',
        roles: ['Orders.Admin'],
        permissions: undefined,
        scp: 'Orders.Read Inventory.Read',
      });

      const result = await getMe(azurePort, token);

      expect(result.status).toBe(200);
      expect(result.body).toEqual({
        userId: '00000000-0000-0000-0000-00000000a11c',
        email: 'alice@example.com',
        roles: ['Orders.Admin'],
        permissions: ['Orders.Read', 'Inventory.Read'],
      });
    });
  });
});

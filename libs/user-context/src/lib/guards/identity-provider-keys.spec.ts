import {
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import * as jose from 'jose';
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import {
  createServer,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AddressInfo } from 'node:net';

import { defaultClaimsMapper } from '../claims/claims-mapper';
import { UserContext } from '../user-context.interface';
import { JwtVerificationOptions } from '../user-context.options';
import { algorithmsForKey, publicKeyFromPem } from './identity-provider-keys';
import { JwtVerifier } from './jwt-verifier';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

async function signingKey(kid: string, alg: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, {
    crv: alg === 'EdDSA' ? 'Ed25519' : undefined,
  });
  return {
    kid,
    alg,
    privateKey: privateKey as KeyObject,
    publicKey: publicKey as KeyObject,
  };
}

/** Issuer written into signed tokens: the fake provider's, once it listens. */
let issuer = '';

function sign(
  key: SigningKey,
  claims: jose.JWTPayload = {},
  header: Partial<jose.JWTHeaderParameters> = {},
) {
  return new jose.SignJWT({
    sub: 'alice',
    permissions: ['orders:read'],
    iss: issuer,
    aud: 'platform-api',
    ...claims,
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key.privateKey);
}

/** A loopback identity provider: discovery document and JWKS, with a request counter. */
class FakeProvider {
  keys: SigningKey[] = [];
  jwksRequests = 0;
  /** Serves a key set with an entry that is not a key. */
  broken = false;
  private server?: Server;
  port = 0;

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer(
      (request, response) => void this.answer(request, response),
    );
    await new Promise<void>((resolve) =>
      this.server?.listen(port, '127.0.0.1', resolve),
    );
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  }

  private async answer(
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> {
    response.setHeader('content-type', 'application/json');
    if (request.url === '/.well-known/openid-configuration') {
      response.end(
        JSON.stringify({
          issuer: this.issuer,
          jwks_uri: `${this.issuer}/jwks`,
        }),
      );
      return;
    }
    this.jwksRequests += 1;
    const jwks = await Promise.all(
      this.keys.map(async ({ kid, alg, publicKey }) => ({
        ...(await jose.exportJWK(publicKey)),
        kid,
        alg,
      })),
    );
    response.end(
      JSON.stringify({ keys: this.broken ? [...jwks, 'oops'] : jwks }),
    );
  }
}

/** Awaits a verification and returns the exception it rejects with. */
async function failure(
  verification: UserContext | Promise<UserContext>,
): Promise<unknown> {
  try {
    await verification;
  } catch (error) {
    return error;
  }
  throw new Error('verify() accepted the token');
}

describe('JwtVerifier with an identity provider', () => {
  const provider = new FakeProvider();
  let rsa: SigningKey;

  const verifierFor = (options: Partial<JwtVerificationOptions> = {}) =>
    new JwtVerifier(
      {
        oidcIssuer: provider.issuer,
        audience: 'platform-api',
        // No cooldown, so every test may fetch again at once.
        keyRefreshCooldownSeconds: 0,
        // Generous: under a full parallel test run a loopback fetch took over 500 ms.
        keyFetchTimeoutMs: 3000,
        ...options,
      },
      defaultClaimsMapper,
    );

  beforeAll(async () => {
    rsa = await signingKey('rsa-1', 'RS256');
    await provider.start();
    issuer = provider.issuer;
  });

  beforeEach(() => {
    provider.keys = [rsa];
    provider.jwksRequests = 0;
  });

  afterAll(() => provider.stop());

  it.each(['RS256', 'PS256', 'ES256', 'EdDSA'])('accepts %s', async (alg) => {
    const key = await signingKey(`${alg}-key`, alg);
    provider.keys = [key];

    const user = await verifierFor().verify(await sign(key));

    expect(user.userId).toBe('alice');
  });

  it('fetches the keys once for many tokens', async () => {
    const verifier = verifierFor();

    await Promise.all(
      [1, 2, 3].map(async () =>
        verifier.verify(await sign(rsa, { sub: 'bob' })),
      ),
    );

    expect(provider.jwksRequests).toBe(1);
  });

  it('fetches again for a new kid', async () => {
    const verifier = verifierFor();
    await verifier.verify(await sign(rsa));
    const rotated = await signingKey('rsa-2', 'RS256');
    provider.keys = [rotated];

    const user = await verifier.verify(await sign(rotated));

    expect(user.userId).toBe('alice');
    expect(provider.jwksRequests).toBe(2);
  });

  it('limits fetches for unknown kids', async () => {
    const verifier = verifierFor({ keyRefreshCooldownSeconds: 60 });
    await verifier.verify(await sign(rsa));
    const stranger = await signingKey('unknown', 'RS256');

    const errors = await Promise.all(
      Array.from({ length: 10 }, async () =>
        failure(verifier.verify(await sign(stranger))),
      ),
    );

    expect(
      errors.every((error) => error instanceof UnauthorizedException),
    ).toBe(true);
    expect(provider.jwksRequests).toBe(1);
  });

  it('rejects an HS256 token keyed with the public key', async () => {
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const forged = await new jose.SignJWT({ sub: 'mallory' })
      .setProtectedHeader({ alg: 'HS256', kid: rsa.kid })
      .setExpirationTime('5m')
      .sign(Buffer.from(pem));

    const error = await failure(verifierFor().verify(forged));

    expect(error).toBeInstanceOf(UnauthorizedException);
    expect((error as Error).message).toBe(
      'Invalid token: its algorithm is not accepted.',
    );
  });

  it('rejects an unsigned token', async () => {
    const unsigned = new jose.UnsecuredJWT({ sub: 'mallory' })
      .setExpirationTime('5m')
      .encode();

    const error = await failure(verifierFor().verify(unsigned));

    expect(error).toBeInstanceOf(UnauthorizedException);
  });

  it('requires exp', async () => {
    const token = await new jose.SignJWT({
      sub: 'alice',
      iss: issuer,
      aud: 'platform-api',
    })
      .setProtectedHeader({ alg: 'RS256', kid: rsa.kid })
      .sign(rsa.privateKey);

    const error = await failure(verifierFor().verify(token));

    expect((error as Error).message).toBe(
      'Token has no expiry: the "exp" claim is required.',
    );
  });

  it('enforces the issuer from discovery', async () => {
    const token = await sign(rsa, { iss: 'https://other.example' });

    const error = await failure(verifierFor().verify(token));

    expect((error as Error).message).toBe(
      'Invalid token: issuer is not accepted.',
    );
  });

  describe('while the provider is down', () => {
    afterEach(async () => {
      if (!(await reachable(provider.issuer))) {
        await provider.start(provider.port);
      }
    });

    it('keeps known keys and answers 503 for others', async () => {
      const verifier = verifierFor();
      const token = await sign(rsa);
      await verifier.verify(token);
      const rotated = await signingKey('rsa-3', 'RS256');
      await provider.stop();

      const known = await verifier.verify(await sign(rsa, { sub: 'carol' }));
      const unknown = await failure(verifier.verify(await sign(rotated)));

      expect(known.userId).toBe('carol');
      expect(unknown).toBeInstanceOf(ServiceUnavailableException);
    });

    it('answers 503 before any key was fetched', async () => {
      const verifier = verifierFor();
      await provider.stop();

      const error = await failure(verifier.verify(await sign(rsa)));

      expect(error).toBeInstanceOf(ServiceUnavailableException);
    });

    it('recovers when the provider is back', async () => {
      const verifier = verifierFor();
      await provider.stop();
      await failure(verifier.verify(await sign(rsa)));
      await provider.start(provider.port);

      const user = await verifier.verify(await sign(rsa));

      expect(user.userId).toBe('alice');
    });
  });

  it('stops accepting a withdrawn key after the cache time', async () => {
    const verifier = verifierFor({ keyCacheSeconds: 1 });
    const token = await sign(rsa);
    await verifier.verify(token);
    provider.keys = [await signingKey('rsa-later', 'RS256')];
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const error = await failure(verifier.verify(token));

    expect(error).toBeInstanceOf(UnauthorizedException);
  });

  it('answers 503 for a key set that is not valid', async () => {
    const verifier = verifierFor();
    provider.broken = true;
    try {
      const error = await failure(verifier.verify(await sign(rsa)));

      expect(error).toBeInstanceOf(ServiceUnavailableException);
    } finally {
      provider.broken = false;
    }
  });

  it.each([
    ['no audience', { audience: undefined }, 'JWT_AUDIENCE is required'],
    [
      'plain http elsewhere',
      { oidcIssuer: 'http://idp.example' },
      'must use https',
    ],
    [
      'a JWKS_URI without issuer',
      { oidcIssuer: undefined, jwksUri: 'https://idp.example/jwks' },
      'JWT_ISSUER is required',
    ],
  ])('refuses %s', (_name, options, message) => {
    expect(() =>
      verifierFor(options as Partial<JwtVerificationOptions>),
    ).toThrow(message);
  });

  it('answers 503 when the provider hangs', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) =>
      hanging.listen(0, '127.0.0.1', resolve),
    );
    const { port } = hanging.address() as AddressInfo;
    const verifier = new JwtVerifier(
      {
        jwksUri: `http://127.0.0.1:${port}/jwks`,
        issuer: 'http://127.0.0.1',
        audience: 'platform-api',
        keyFetchTimeoutMs: 300,
      },
      defaultClaimsMapper,
    );
    try {
      const started = Date.now();
      const error = await failure(verifier.verify(await sign(rsa)));

      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});

describe('static public keys', () => {
  it.each([
    ['rsa', { modulusLength: 2048 }, ['RS256', 'PS256']],
    ['ec', { namedCurve: 'prime256v1' }, ['ES256']],
    ['ed25519', {}, ['EdDSA']],
  ] as const)(
    'pins %s keys to their algorithms',
    (type, options, algorithms) => {
      const { publicKey } = generateKeyPairSync(
        type as 'rsa',
        options as never,
      ) as unknown as {
        publicKey: KeyObject;
      };
      const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

      expect(algorithmsForKey(publicKeyFromPem(pem))).toEqual(algorithms);
    },
  );

  it('rejects a P-384 key', () => {
    const { publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'secp384r1',
    });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

    expect(() => algorithmsForKey(publicKeyFromPem(pem))).toThrow(
      'RSA, P-256 or Ed25519',
    );
  });

  it('rejects an RSA key under 2048 bits', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }) as string;

    expect(() => algorithmsForKey(publicKeyFromPem(pem))).toThrow(
      'under 2048 bits',
    );
  });

  it('rejects a private key behind a public key header', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

    expect(() =>
      publicKeyFromPem(`-----BEGIN PUBLIC KEY-----\n${pem}`),
    ).toThrow('must be a PEM public key');
  });

  it('rejects a private key', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

    expect(() => publicKeyFromPem(pem)).toThrow('must be a PEM public key');
  });

  it('verifies an ES256 token with its PEM', async () => {
    const { privateKey, publicKey } = await jose.generateKeyPair('ES256');
    const pem = (publicKey as KeyObject).export({
      type: 'spki',
      format: 'pem',
    }) as string;
    const token = await new jose.SignJWT({ sub: 'dave' })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('5m')
      .sign(privateKey);

    const user = await new JwtVerifier(
      { publicKey: pem },
      defaultClaimsMapper,
    ).verify(token);

    expect(user.userId).toBe('dave');
  });
});

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(200),
    });
    return true;
  } catch {
    return false;
  }
}

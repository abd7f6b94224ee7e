import { UnauthorizedException } from '@nestjs/common';
import * as jsonwebtoken from 'jsonwebtoken';
import { createHmac } from 'node:crypto';

import {
  ClaimsMapper,
  defaultClaimsMapper,
  InvalidClaimsError,
} from '../claims/claims-mapper';
import { UserContext } from '../user-context.interface';
import { JwtVerificationOptions } from '../user-context.options';
import { JwtVerifier } from './jwt-verifier';

const SECRET = 'jwt-verifier-test-secret-0123456789abcdef';
const OTHER_SECRET = 'jwt-verifier-other-secret-0123456789abcde';

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function signToken(
  payload: Record<string, unknown>,
  options: jsonwebtoken.SignOptions = {},
  secret = SECRET,
): string {
  return jsonwebtoken.sign({ exp: nowSeconds() + 300, ...payload }, secret, {
    algorithm: 'HS256',
    ...options,
  });
}

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs any payload as HS256 by hand, bypassing the claim checks of `jsonwebtoken.sign`. */
function signRawHs256(payload: unknown): string {
  const signingInput = `${base64urlJson({ alg: 'HS256', typ: 'JWT' })}.${base64urlJson(payload)}`;
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

/** A verifier with an HS256 secret, which returns without a promise. */
interface Hs256Verifier {
  verify(token: string): UserContext;
}

function verifierWith(
  options: Partial<JwtVerificationOptions> = {},
  mapper = defaultClaimsMapper,
): Hs256Verifier {
  return new JwtVerifier(
    { secret: SECRET, ...options },
    mapper,
  ) as unknown as Hs256Verifier;
}

/** Returns the exception that `verify` throws, or fails the test when it returns. */
function rejection(
  verifier: Hs256Verifier,
  token: string,
): UnauthorizedException {
  try {
    verifier.verify(token);
  } catch (error) {
    if (error instanceof UnauthorizedException) {
      return error;
    }
    throw error;
  }
  throw new Error('verify() accepted the token');
}

/** Lists the non-empty dot-separated parts of `token` that occur in `text`. */
function tokenPartsIn(text: string, token: string): string[] {
  return token
    .split('.')
    .filter((part) => part.length >= 8 && text.includes(part));
}

describe('JwtVerifier', () => {
  const verifier = verifierWith();

  describe('valid tokens', () => {
    it('maps a valid HS256 token', () => {
      const token = signToken({
        sub: 'alice',
        email: 'alice@example.com',
        roles: ['admin'],
        permissions: ['orders:read'],
        scope: 'orders:write',
      });

      expect(verifier.verify(token)).toStrictEqual({
        userId: 'alice',
        email: 'alice@example.com',
        roles: ['admin'],
        permissions: ['orders:read', 'orders:write'],
      });
    });

    it('accepts a token from expiresIn', () => {
      const token = jsonwebtoken.sign({ sub: 'alice' }, SECRET, {
        expiresIn: 60,
      });

      expect(verifier.verify(token).userId).toBe('alice');
    });

    it('accepts expiry within tolerance', () => {
      const token = signToken({ sub: 'alice', exp: nowSeconds() - 10 });

      expect(verifier.verify(token).userId).toBe('alice');
    });

    it('accepts nbf within tolerance', () => {
      const token = signToken({ sub: 'alice', nbf: nowSeconds() + 10 });

      expect(verifier.verify(token).userId).toBe('alice');
    });

    it('uses a custom claims mapper', () => {
      const mapper: ClaimsMapper = (claims) => ({
        userId: `tenant-${String(claims.sub)}`,
        roles: [],
        permissions: [],
      });

      expect(
        verifierWith({}, mapper).verify(signToken({ sub: 'alice' })).userId,
      ).toBe('tenant-alice');
    });
  });

  describe('rejected tokens', () => {
    const cases: Array<
      [string, () => { token: string; verifier?: Hs256Verifier }, string]
    > = [
      [
        'wrong secret',
        () => ({ token: signToken({ sub: 'a' }, {}, OTHER_SECRET) }),
        'Invalid token: invalid signature.',
      ],
      [
        'alg none',
        () => ({
          token: `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${base64urlJson(
            {
              sub: 'alice',
              exp: nowSeconds() + 300,
            },
          )}.`,
        }),
        'Invalid token: jwt signature is required.',
      ],
      [
        'alg none with signature',
        () => {
          const valid = signToken({ sub: 'alice' });
          const [, payload, signature] = valid.split('.');
          return {
            token: `${base64urlJson({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
          };
        },
        'Invalid token: invalid algorithm.',
      ],
      [
        'HS512 with right secret',
        () => ({ token: signToken({ sub: 'alice' }, { algorithm: 'HS512' }) }),
        'Invalid token: invalid algorithm.',
      ],
      [
        'HS384 with right secret',
        () => ({ token: signToken({ sub: 'alice' }, { algorithm: 'HS384' }) }),
        'Invalid token: invalid algorithm.',
      ],
      [
        'expiry beyond tolerance',
        () => ({ token: signToken({ sub: 'alice', exp: nowSeconds() - 60 }) }),
        'Token has expired.',
      ],
      [
        'expiry beyond custom tolerance',
        () => ({
          token: signToken({ sub: 'alice', exp: nowSeconds() - 10 }),
          verifier: verifierWith({ clockToleranceSeconds: 0 }),
        }),
        'Token has expired.',
      ],
      [
        'nbf in the future',
        () => ({ token: signToken({ sub: 'alice', nbf: nowSeconds() + 120 }) }),
        'Token is not valid yet.',
      ],
      [
        'missing exp',
        () => ({
          token: jsonwebtoken.sign({ sub: 'alice' }, SECRET, {
            algorithm: 'HS256',
          }),
        }),
        'Token has no expiry: the "exp" claim is required.',
      ],
      [
        'string exp',
        () => ({
          token: signRawHs256({
            sub: 'alice',
            exp: String(nowSeconds() + 300),
          }),
        }),
        'Invalid token: invalid exp value.',
      ],
      [
        'missing sub',
        () => ({ token: signToken({ email: 'alice@example.com' }) }),
        'Token has no subject: the "sub" claim is missing or empty.',
      ],
      [
        'empty sub',
        () => ({ token: signToken({ sub: '' }) }),
        'Token has no subject: the "sub" claim is missing or empty.',
      ],
      [
        'non-array roles',
        () => ({ token: signToken({ sub: 'alice', roles: 'admin' }) }),
        'Token claim "roles" must be an array of strings.',
      ],
      [
        'wrong issuer',
        () => ({
          token: signToken(
            { sub: 'alice' },
            { issuer: 'https://evil.example' },
          ),
          verifier: verifierWith({ issuer: 'https://issuer.example' }),
        }),
        'Invalid token: issuer is not accepted.',
      ],
      [
        'missing issuer',
        () => ({
          token: signToken({ sub: 'alice' }),
          verifier: verifierWith({ issuer: 'https://issuer.example' }),
        }),
        'Invalid token: issuer is not accepted.',
      ],
      [
        'wrong audience',
        () => ({
          token: signToken({ sub: 'alice' }, { audience: 'billing' }),
          verifier: verifierWith({ audience: 'orders' }),
        }),
        'Invalid token: audience is not accepted.',
      ],
      [
        'missing audience',
        () => ({
          token: signToken({ sub: 'alice' }),
          verifier: verifierWith({ audience: 'orders' }),
        }),
        'Invalid token: audience is not accepted.',
      ],
      [
        'malformed token',
        () => ({ token: 'not-a-jwt-at-all' }),
        'Invalid token: jwt malformed.',
      ],
      [
        'empty token',
        () => ({ token: '' }),
        'Invalid token: jwt must be provided.',
      ],
      [
        'undecodable parts',
        () => ({ token: 'aGVsbG8gd29ybGQ.aGVsbG8gd29ybGQ.aGVsbG8gd29ybGQ' }),
        'Invalid token: not a well-formed JWT.',
      ],
      [
        'tampered payload',
        () => {
          const [header, , signature] = signToken({ sub: 'alice' }).split('.');
          const forged = base64urlJson({
            sub: 'mallory',
            exp: nowSeconds() + 300,
          });
          return { token: `${header}.${forged}.${signature}` };
        },
        'Invalid token: invalid signature.',
      ],
    ];

    describe.each(cases)('%s', (_name, build, message) => {
      let token: string;
      let error: UnauthorizedException;

      beforeAll(() => {
        const built = build();
        token = built.token;
        error = rejection(built.verifier ?? verifier, token);
      });

      it('throws UnauthorizedException', () => {
        expect(error).toBeInstanceOf(UnauthorizedException);
      });

      it('explains the failure', () => {
        expect(error.message).toBe(message);
      });

      it('omits the token from the message', () => {
        expect(tokenPartsIn(error.message, token)).toEqual([]);
      });
    });
  });

  describe('token length', () => {
    it('rejects a token over the default limit', () => {
      const token = signToken({ sub: 'alice', pad: 'x'.repeat(8200) });

      expect(rejection(verifier, token).message).toBe(
        'Token is longer than 8192 characters.',
      );
    });

    it('accepts a token at a custom limit', () => {
      const token = signToken({ sub: 'alice' });

      expect(
        verifierWith({ maxTokenLength: token.length }).verify(token).userId,
      ).toBe('alice');
    });

    it('rejects one character over a custom limit', () => {
      const token = signToken({ sub: 'alice' });
      const error = rejection(
        verifierWith({ maxTokenLength: token.length - 1 }),
        token,
      );

      expect(error.message).toBe(
        `Token is longer than ${token.length - 1} characters.`,
      );
    });
  });

  describe('issuer and audience', () => {
    const strict = verifierWith({
      issuer: 'https://issuer.example',
      audience: 'orders',
    });

    it('accepts the configured issuer and audience', () => {
      const token = signToken(
        { sub: 'alice' },
        { issuer: 'https://issuer.example', audience: 'orders' },
      );

      expect(strict.verify(token).userId).toBe('alice');
    });

    it('accepts any issuer when unset', () => {
      const token = signToken(
        { sub: 'alice' },
        { issuer: 'https://anyone.example' },
      );

      expect(verifier.verify(token).userId).toBe('alice');
    });
  });

  describe('claims mapper errors', () => {
    it('turns InvalidClaimsError into 401', () => {
      const mapper: ClaimsMapper = () => {
        throw new InvalidClaimsError('Tenant claim is missing.');
      };

      expect(
        rejection(verifierWith({}, mapper), signToken({ sub: 'a' })).message,
      ).toBe('Tenant claim is missing.');
    });

    it('rethrows unexpected mapper errors', () => {
      const failure = new TypeError('mapper bug');
      const mapper: ClaimsMapper = () => {
        throw failure;
      };

      expect(() =>
        verifierWith({}, mapper).verify(signToken({ sub: 'a' })),
      ).toThrow(failure);
    });
  });

  describe('secret length', () => {
    it('rejects a 31-byte secret', () => {
      expect(() => verifierWith({ secret: 'x'.repeat(31) })).toThrow(
        'at least 32',
      );
    });

    it('accepts a 32-byte secret', () => {
      expect(() => verifierWith({ secret: 'x'.repeat(32) })).not.toThrow();
    });
  });

  describe('verified-token cache', () => {
    function countingMapper(): ClaimsMapper & { calls: number } {
      const mapper = ((claims) => {
        mapper.calls += 1;
        return defaultClaimsMapper(claims);
      }) as ClaimsMapper & { calls: number };
      mapper.calls = 0;
      return mapper;
    }

    afterEach(() => {
      jest.useRealTimers();
    });

    it('verifies a repeated token once', () => {
      const mapper = countingMapper();
      const cached = verifierWith({}, mapper);
      const token = signToken({ sub: 'alice' });

      const first = cached.verify(token);
      const second = cached.verify(token);

      expect(second).toBe(first);
      expect(mapper.calls).toBe(1);
    });

    it('returns a frozen user', () => {
      const user = verifierWith().verify(
        signToken({ sub: 'alice', permissions: ['a'] }),
      );

      expect(Object.isFrozen(user)).toBe(true);
      expect(Object.isFrozen(user.permissions)).toBe(true);
      expect(Object.isFrozen(user.roles)).toBe(true);
    });

    it('verifies every time with cacheSize 0', () => {
      const mapper = countingMapper();
      const uncached = verifierWith({ cacheSize: 0 }, mapper);
      const token = signToken({ sub: 'alice' });

      uncached.verify(token);
      uncached.verify(token);

      expect(mapper.calls).toBe(2);
    });

    it('rejects a cached token after expiry', () => {
      jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
      const cached = verifierWith({ clockToleranceSeconds: 5 });
      const token = signToken({ sub: 'alice', exp: nowSeconds() + 10 });
      cached.verify(token);

      jest.setSystemTime(Date.now() + 14_000);
      const stillValid = cached.verify(token);
      jest.setSystemTime(Date.now() + 2_000);

      expect(stillValid.userId).toBe('alice');
      expect(() => cached.verify(token)).toThrow('Token has expired.');
    });

    it('never serves a tampered token', () => {
      const cached = verifierWith();
      const token = signToken({ sub: 'alice' });
      cached.verify(token);
      const last = token.slice(-1);
      const tampered = `${token.slice(0, -2)}${last === 'A' ? 'B' : 'A'}${last}`;

      expect(() => cached.verify(tampered)).toThrow(UnauthorizedException);
    });

    it('evicts the oldest token when full', () => {
      const mapper = countingMapper();
      const small = verifierWith({ cacheSize: 2 }, mapper);
      const [first, second, third] = ['a', 'b', 'c'].map((sub) =>
        signToken({ sub }),
      );
      small.verify(first);
      small.verify(second);
      small.verify(third);

      small.verify(third);
      small.verify(first);

      expect(mapper.calls).toBe(4);
    });

    it.each([-1, 1.5, Number.NaN])('rejects cacheSize %p', (cacheSize) => {
      expect(() => verifierWith({ cacheSize })).toThrow('cacheSize');
    });
  });
});

import { Logger } from '@nestjs/common';
import { generateKeyPairSync, KeyObject } from 'node:crypto';

import {
  addressFromEnv,
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_USER_CONTEXT_SECRET,
  envelopeOptionsFromEnv,
  intFromEnv,
  jwtOptionsFromEnv,
  secretFromEnv,
} from './env';

const DEV_SECRET = 'development-secret-for-env-spec-0123456789';
const REAL_SECRET = 'real-secret-from-the-environment-0123456789';

describe('env', () => {
  let warn: jest.SpyInstance;

  beforeEach(() => {
    warn = jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation(() => undefined);
  });

  afterEach(() => {
    warn.mockRestore();
  });

  describe('secretFromEnv', () => {
    it('returns a set secret', () => {
      const env = { APP_SECRET: REAL_SECRET };

      expect(secretFromEnv('APP_SECRET', DEV_SECRET, env)).toBe(REAL_SECRET);
    });

    it('falls back outside production', () => {
      expect(secretFromEnv('APP_SECRET', DEV_SECRET, {})).toBe(DEV_SECRET);
    });

    it('falls back on an empty value', () => {
      expect(secretFromEnv('APP_SECRET', DEV_SECRET, { APP_SECRET: '' })).toBe(
        DEV_SECRET,
      );
    });

    it('falls back in development mode', () => {
      expect(
        secretFromEnv('APP_SECRET', DEV_SECRET, { NODE_ENV: 'development' }),
      ).toBe(DEV_SECRET);
    });

    it('warns about the fallback', () => {
      secretFromEnv('APP_SECRET', DEV_SECRET, {});

      expect(warn).toHaveBeenCalledWith(
        expect.stringContaining('APP_SECRET is not set'),
      );
    });

    it('omits the secret from the warning', () => {
      secretFromEnv('APP_SECRET', DEV_SECRET, {});

      expect(warn).not.toHaveBeenCalledWith(
        expect.stringContaining(DEV_SECRET),
      );
    });

    it('stays quiet with a set secret', () => {
      secretFromEnv('APP_SECRET', DEV_SECRET, { APP_SECRET: REAL_SECRET });

      expect(warn).not.toHaveBeenCalled();
    });

    it('rejects a whitespace-only secret', () => {
      expect(() =>
        secretFromEnv('APP_SECRET', DEV_SECRET, { APP_SECRET: ' '.repeat(40) }),
      ).toThrow('APP_SECRET contains only whitespace');
    });

    it('rejects the padded development value in production', () => {
      const env = { NODE_ENV: 'production', APP_SECRET: ` ${DEV_SECRET} ` };

      expect(() => secretFromEnv('APP_SECRET', DEV_SECRET, env)).toThrow(
        'development secret',
      );
    });

    it('accepts the development value outside production', () => {
      expect(
        secretFromEnv('APP_SECRET', DEV_SECRET, { APP_SECRET: DEV_SECRET }),
      ).toBe(DEV_SECRET);
    });

    it('reads process.env by default', () => {
      process.env.USER_CONTEXT_ENV_SPEC_SECRET = REAL_SECRET;
      try {
        expect(secretFromEnv('USER_CONTEXT_ENV_SPEC_SECRET', DEV_SECRET)).toBe(
          REAL_SECRET,
        );
      } finally {
        delete process.env.USER_CONTEXT_ENV_SPEC_SECRET;
      }
    });

    describe('in production', () => {
      const production = { NODE_ENV: 'production' };

      it('returns a set secret', () => {
        const env = { ...production, APP_SECRET: REAL_SECRET };

        expect(secretFromEnv('APP_SECRET', DEV_SECRET, env)).toBe(REAL_SECRET);
      });

      it('rejects a missing secret', () => {
        expect(() =>
          secretFromEnv('APP_SECRET', DEV_SECRET, production),
        ).toThrow('APP_SECRET is not set');
      });

      it('rejects an empty secret', () => {
        const env = { ...production, APP_SECRET: '' };

        expect(() => secretFromEnv('APP_SECRET', DEV_SECRET, env)).toThrow(
          'APP_SECRET is not set',
        );
      });

      it('rejects the development value', () => {
        expect(() =>
          secretFromEnv('APP_SECRET', DEV_SECRET, {
            ...production,
            APP_SECRET: DEV_SECRET,
          }),
        ).toThrow('APP_SECRET is the built-in development secret');
      });

      it('omits the secret from the error', () => {
        expect(() =>
          secretFromEnv('APP_SECRET', DEV_SECRET, {
            ...production,
            APP_SECRET: DEV_SECRET,
          }),
        ).not.toThrow(DEV_SECRET);
      });

      it('does not warn before throwing', () => {
        expect(() =>
          secretFromEnv('APP_SECRET', DEV_SECRET, production),
        ).toThrow();
        expect(warn).not.toHaveBeenCalled();
      });
    });
  });

  describe('intFromEnv', () => {
    const range = { min: 1, max: 100 };

    it('returns the default when unset', () => {
      expect(intFromEnv('COUNT', 7, range, {})).toBe(7);
    });

    it('returns the default when empty', () => {
      expect(intFromEnv('COUNT', 7, range, { COUNT: '' })).toBe(7);
    });

    it('parses an integer', () => {
      expect(intFromEnv('COUNT', 7, range, { COUNT: '42' })).toBe(42);
    });

    it('accepts the minimum', () => {
      expect(intFromEnv('COUNT', 7, range, { COUNT: '1' })).toBe(1);
    });

    it('accepts the maximum', () => {
      expect(intFromEnv('COUNT', 7, range, { COUNT: '100' })).toBe(100);
    });

    it('rejects below the minimum', () => {
      expect(() => intFromEnv('COUNT', 7, range, { COUNT: '0' })).toThrow(
        'COUNT must be an integer from 1 to 100, got "0".',
      );
    });

    it('rejects above the maximum', () => {
      expect(() => intFromEnv('COUNT', 7, range, { COUNT: '101' })).toThrow(
        'COUNT must be an integer from 1 to 100, got "101".',
      );
    });

    it('accepts a negative value without a range', () => {
      expect(intFromEnv('OFFSET', 0, {}, { OFFSET: '-5' })).toBe(-5);
    });

    it('rejects an unsafe integer without a range', () => {
      expect(() =>
        intFromEnv('OFFSET', 0, {}, { OFFSET: '9007199254740993' }),
      ).toThrow('OFFSET');
    });

    it.each([
      ['letters', 'abc'],
      ['a fraction', '4.5'],
      ['trailing junk', '12abc'],
      ['whitespace only', ' '],
      ['surrounding spaces', ' 42 '],
      ['a hex literal', '0x10'],
      ['an exponent', '1e1'],
      ['a binary literal', '0b11'],
      ['Infinity', 'Infinity'],
      ['NaN', 'NaN'],
    ])('rejects %s', (_name, raw) => {
      const withZero = { min: 0, max: 100 };

      expect(() => intFromEnv('COUNT', 7, withZero, { COUNT: raw })).toThrow(
        `got "${raw}"`,
      );
    });
  });

  describe('addressFromEnv', () => {
    it('defaults host and port', () => {
      expect(addressFromEnv('ORDERS', 3001, {})).toEqual({
        host: '127.0.0.1',
        port: 3001,
      });
    });

    it('reads host and port', () => {
      const env = { ORDERS_HOST: 'orders.internal', ORDERS_PORT: '4001' };

      expect(addressFromEnv('ORDERS', 3001, env)).toEqual({
        host: 'orders.internal',
        port: 4001,
      });
    });

    it('defaults an empty host', () => {
      expect(addressFromEnv('ORDERS', 3001, { ORDERS_HOST: '' }).host).toBe(
        '127.0.0.1',
      );
    });

    it('ignores another prefix', () => {
      expect(
        addressFromEnv('ORDERS', 3001, { INVENTORY_PORT: '4002' }).port,
      ).toBe(3001);
    });

    it.each(['0', '65536', 'http', '-1'])('rejects port %p', (port) => {
      expect(() =>
        addressFromEnv('ORDERS', 3001, { ORDERS_PORT: port }),
      ).toThrow('ORDERS_PORT');
    });

    it('accepts port 65535', () => {
      expect(
        addressFromEnv('ORDERS', 3001, { ORDERS_PORT: '65535' }).port,
      ).toBe(65535);
    });
  });

  describe('jwtOptionsFromEnv', () => {
    it('applies defaults outside production', () => {
      expect(jwtOptionsFromEnv({})).toEqual({
        secret: DEVELOPMENT_JWT_SECRET,
        issuer: undefined,
        audience: undefined,
        clockToleranceSeconds: 30,
      });
    });

    it('reads every variable', () => {
      const env = {
        JWT_SECRET: REAL_SECRET,
        JWT_ISSUER: 'https://issuer.example',
        JWT_AUDIENCE: 'orders',
        JWT_CLOCK_TOLERANCE: '0',
      };

      expect(jwtOptionsFromEnv(env)).toEqual({
        secret: REAL_SECRET,
        issuer: 'https://issuer.example',
        audience: 'orders',
        clockToleranceSeconds: 0,
      });
    });

    it('rejects a tolerance over 300', () => {
      expect(() => jwtOptionsFromEnv({ JWT_CLOCK_TOLERANCE: '301' })).toThrow(
        'JWT_CLOCK_TOLERANCE',
      );
    });

    it('rejects the development secret in production', () => {
      const env = {
        NODE_ENV: 'production',
        JWT_SECRET: DEVELOPMENT_JWT_SECRET,
      };

      expect(() => jwtOptionsFromEnv(env)).toThrow('JWT_SECRET');
    });
  });

  describe('envelopeOptionsFromEnv', () => {
    it('applies defaults outside production', () => {
      expect(envelopeOptionsFromEnv({})).toEqual({
        keys: [{ id: 'k1', secret: DEVELOPMENT_USER_CONTEXT_SECRET }],
        ttlSeconds: 60,
      });
    });

    it('reads every variable', () => {
      const env = {
        USER_CONTEXT_SECRET: REAL_SECRET,
        USER_CONTEXT_KEY_ID: 'k7',
        USER_CONTEXT_TTL_SECONDS: '30',
      };

      expect(envelopeOptionsFromEnv(env)).toEqual({
        keys: [{ id: 'k7', secret: REAL_SECRET }],
        ttlSeconds: 30,
      });
    });

    it('rejects a zero ttl', () => {
      expect(() =>
        envelopeOptionsFromEnv({ USER_CONTEXT_TTL_SECONDS: '0' }),
      ).toThrow('USER_CONTEXT_TTL_SECONDS');
    });

    it('rejects a missing secret in production', () => {
      expect(() => envelopeOptionsFromEnv({ NODE_ENV: 'production' })).toThrow(
        'USER_CONTEXT_SECRET',
      );
    });

    it('keeps development secrets at least 32 bytes', () => {
      expect(
        Buffer.byteLength(DEVELOPMENT_USER_CONTEXT_SECRET),
      ).toBeGreaterThanOrEqual(32);
    });
  });
  describe('Ed25519 keys', () => {
    const rawKey = (key: KeyObject, type: 'pkcs8' | 'spki') => {
      const der = key.export({ type, format: 'der' });
      return der.subarray(der.length - 32).toString('base64url');
    };
    const first = generateKeyPairSync('ed25519');
    const second = generateKeyPairSync('ed25519');

    it('reads the gateway key and the public ring', () => {
      const options = envelopeOptionsFromEnv({
        USER_CONTEXT_SIGNING: 'ed25519',
        USER_CONTEXT_PRIVATE_KEY: rawKey(first.privateKey, 'pkcs8'),
        USER_CONTEXT_PUBLIC_KEYS: `k1=${rawKey(first.publicKey, 'spki')},k0=${rawKey(second.publicKey, 'spki')}`,
      });

      expect(options.keys.map((key) => key.id)).toEqual(['k1', 'k0']);
    });

    it('rejects a public key that does not match the private key', () => {
      expect(() =>
        envelopeOptionsFromEnv({
          USER_CONTEXT_SIGNING: 'ed25519',
          USER_CONTEXT_PRIVATE_KEY: rawKey(first.privateKey, 'pkcs8'),
          USER_CONTEXT_PUBLIC_KEYS: `k1=${rawKey(second.publicKey, 'spki')}`,
        }),
      ).toThrow('does not match USER_CONTEXT_PRIVATE_KEY');
    });

    it('rejects a key id listed twice', () => {
      const key = rawKey(first.publicKey, 'spki');

      expect(() =>
        envelopeOptionsFromEnv({
          USER_CONTEXT_SIGNING: 'ed25519',
          USER_CONTEXT_PUBLIC_KEYS: `k1=${key},k1=${key}`,
        }),
      ).toThrow('lists key "k1" twice');
    });

    it('rejects Ed25519 variables without Ed25519 signing', () => {
      expect(() =>
        envelopeOptionsFromEnv({
          USER_CONTEXT_SECRET: REAL_SECRET,
          USER_CONTEXT_PUBLIC_KEYS: `k1=${rawKey(first.publicKey, 'spki')}`,
        }),
      ).toThrow('need USER_CONTEXT_SIGNING=ed25519');
    });
  });
});

import { createHmac, generateKeyPairSync } from 'node:crypto';

import { UserContext } from '../user-context.interface';
import {
  ContextEnvelopeCodec,
  ContextEnvelopeCodecOptions,
} from './context-envelope.codec';
import {
  ContextEnvelopeError,
  ContextEnvelopeFailure,
} from './context-envelope.error';

const SECRET_1 = 'envelope-test-secret-one-0123456789abcdef';
const SECRET_2 = 'envelope-test-secret-two-0123456789abcdef';
const OTHER_SECRET = 'envelope-test-secret-other-0123456789abcd';

/** A whole second, so that `iat` is exactly `NOW / 1000`. */
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const NOW_SECONDS = NOW / 1000;
const TTL_SECONDS = 60;
const TOLERANCE_SECONDS = 5;

const ALICE: UserContext = {
  userId: 'alice',
  email: 'alice@example.com',
  roles: ['admin', 'auditor'],
  permissions: ['orders:read', 'orders:write'],
};

const BOB: UserContext = {
  userId: 'bob',
  roles: [],
  permissions: [],
};

const BASE64URL_ALPHABET =
  'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function codecWith(
  options: Partial<ContextEnvelopeCodecOptions> = {},
): ContextEnvelopeCodec {
  return new ContextEnvelopeCodec({
    keys: [{ id: 'k1', secret: SECRET_1 }],
    ...options,
  });
}

/** Signs any payload in the documented wire format, without going through the codec. */
function signRaw(
  payloadJson: string,
  keyId = 'k1',
  secret = SECRET_1,
  version = 'v1',
): string {
  const payload = Buffer.from(payloadJson).toString('base64url');
  const signingInput = `${version}.${keyId}.${payload}`;
  const signature = createHmac('sha256', secret)
    .update(signingInput)
    .digest('base64url');
  return `${signingInput}.${signature}`;
}

function validClaims(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    sub: 'alice',
    roles: ['admin'],
    permissions: ['orders:read'],
    rid: 'req-1',
    iat: NOW_SECONDS,
    exp: NOW_SECONDS + TTL_SECONDS,
    ...overrides,
  };
}

/** Returns the `ContextEnvelopeError` that `verify` throws, or fails the test when it returns. */
function verifyFailure(
  codec: ContextEnvelopeCodec,
  envelope: unknown,
  now = NOW,
): ContextEnvelopeError {
  try {
    codec.verify(envelope, now);
  } catch (error) {
    if (error instanceof ContextEnvelopeError) {
      return error;
    }
    throw error;
  }
  throw new Error(`verify() accepted ${JSON.stringify(envelope)}`);
}

function reasonOf(
  codec: ContextEnvelopeCodec,
  envelope: unknown,
  now = NOW,
): ContextEnvelopeFailure {
  return verifyFailure(codec, envelope, now).reason;
}

function replacePart(envelope: string, index: number, value: string): string {
  const parts = envelope.split('.');
  parts[index] = value;
  return parts.join('.');
}

function otherBase64urlChar(char: string): string {
  return char === 'A' ? 'B' : 'A';
}

describe('ContextEnvelopeCodec', () => {
  const codec = codecWith();

  describe('sign and verify', () => {
    it('round-trips a user with email', () => {
      const envelope = codec.sign(ALICE, 'req-1', NOW);
      const verified = codec.verify(envelope, NOW);

      expect(verified).toStrictEqual({
        user: ALICE,
        requestId: 'req-1',
        keyId: 'k1',
        envelope,
        issuedAt: NOW_SECONDS,
        expiresAt: NOW_SECONDS + TTL_SECONDS,
      });
    });

    it('round-trips a user without email', () => {
      const verified = codec.verify(codec.sign(BOB, 'req-2', NOW), NOW);

      expect(verified.user).toStrictEqual(BOB);
    });

    it('omits absent email from the payload', () => {
      const payload = codec.sign(BOB, 'req-2', NOW).split('.')[2];
      const claims = JSON.parse(
        Buffer.from(payload, 'base64url').toString('utf8'),
      );

      expect(claims).not.toHaveProperty('email');
    });

    it('follows the documented wire format', () => {
      const envelope = codec.sign(ALICE, 'req-1', NOW);
      const expected = signRaw(
        JSON.stringify({
          sub: 'alice',
          email: 'alice@example.com',
          roles: ['admin', 'auditor'],
          permissions: ['orders:read', 'orders:write'],
          rid: 'req-1',
          iat: NOW_SECONDS,
          exp: NOW_SECONDS + TTL_SECONDS,
        }),
      );

      expect(envelope).toBe(expected);
    });

    it('floors a fractional issue time', () => {
      const verified = codec.verify(codec.sign(ALICE, 'req-1', NOW + 999), NOW);

      expect(verified.issuedAt).toBe(NOW_SECONDS);
    });

    it('applies a custom ttl', () => {
      const shortLived = codecWith({ ttlSeconds: 10 });
      const verified = shortLived.verify(
        shortLived.sign(ALICE, 'req-1', NOW),
        NOW,
      );

      expect(verified.expiresAt).toBe(NOW_SECONDS + 10);
    });

    it('accepts an empty request id', () => {
      const verified = codec.verify(codec.sign(ALICE, '', NOW), NOW);

      expect(verified.requestId).toBe('');
    });
  });

  describe('tampering', () => {
    const envelope = codec.sign(ALICE, 'req-1', NOW);
    const [, , payload, signature] = envelope.split('.');

    it('rejects a changed version', () => {
      expect(reasonOf(codec, replacePart(envelope, 0, 'v2'))).toBe(
        'unsupported-version',
      );
    });

    it('rejects an unknown key id', () => {
      expect(reasonOf(codec, replacePart(envelope, 1, 'k2'))).toBe(
        'unknown-key',
      );
    });

    it('rejects a key id switched within the ring', () => {
      const ring = codecWith({
        keys: [
          { id: 'k1', secret: SECRET_1 },
          { id: 'k2', secret: SECRET_2 },
        ],
      });

      expect(
        reasonOf(ring, replacePart(ring.sign(ALICE, 'req-1', NOW), 1, 'k2')),
      ).toBe('bad-signature');
    });

    it('rejects a key id outside the pattern', () => {
      expect(reasonOf(codec, replacePart(envelope, 1, 'k1!'))).toBe(
        'unknown-key',
      );
    });

    it('rejects a replaced payload', () => {
      const forged = Buffer.from(
        JSON.stringify(validClaims({ sub: 'mallory' })),
      ).toString('base64url');

      expect(reasonOf(codec, replacePart(envelope, 2, forged))).toBe(
        'bad-signature',
      );
    });

    it('rejects a replaced signature', () => {
      const forged = createHmac('sha256', OTHER_SECRET)
        .update('v1.k1.' + payload)
        .digest();

      expect(
        reasonOf(codec, replacePart(envelope, 3, forged.toString('base64url'))),
      ).toBe('bad-signature');
    });

    it('rejects any changed payload character', () => {
      const accepted: number[] = [];
      for (let i = 0; i < payload.length; i++) {
        const changed =
          payload.slice(0, i) +
          otherBase64urlChar(payload[i]) +
          payload.slice(i + 1);
        if (
          reasonOf(codec, replacePart(envelope, 2, changed)) !== 'bad-signature'
        ) {
          accepted.push(i);
        }
      }

      expect(accepted).toEqual([]);
    });

    it('rejects any changed signature character', () => {
      const accepted: number[] = [];
      for (let i = 0; i < signature.length; i++) {
        const changed =
          signature.slice(0, i) +
          otherBase64urlChar(signature[i]) +
          signature.slice(i + 1);
        if (
          reasonOf(codec, replacePart(envelope, 3, changed)) !== 'bad-signature'
        ) {
          accepted.push(i);
        }
      }

      expect(accepted).toEqual([]);
    });

    it('rejects a non-canonical signature spelling', () => {
      // 32 bytes take 43 base64url characters, and the last one carries 2 unused
      // bits. Flipping its lowest bit spells the same bytes differently.
      const last = BASE64URL_ALPHABET.indexOf(signature[signature.length - 1]);
      const alias = signature.slice(0, -1) + BASE64URL_ALPHABET[last ^ 1];

      expect(Buffer.from(alias, 'base64url')).toEqual(
        Buffer.from(signature, 'base64url'),
      );
      expect(reasonOf(codec, replacePart(envelope, 3, alias))).toBe(
        'bad-signature',
      );
    });

    it('rejects a padded signature', () => {
      expect(reasonOf(codec, replacePart(envelope, 3, signature + '='))).toBe(
        'malformed',
      );
    });

    it('rejects a truncated signature', () => {
      expect(
        reasonOf(codec, replacePart(envelope, 3, signature.slice(0, -4))),
      ).toBe('bad-signature');
    });

    it('rejects an extended signature', () => {
      expect(
        reasonOf(codec, replacePart(envelope, 3, signature + 'AAAA')),
      ).toBe('bad-signature');
    });

    it('omits the envelope from the error message', () => {
      const error = verifyFailure(
        codec,
        replacePart(envelope, 3, signature.slice(0, -4)),
      );

      expect(error.message).not.toContain(payload);
    });
  });

  describe('lifetime', () => {
    const envelope = codec.sign(ALICE, 'req-1', NOW);
    const expiredAt = (NOW_SECONDS + TTL_SECONDS + TOLERANCE_SECONDS) * 1000;
    const earliest = (NOW_SECONDS - TOLERANCE_SECONDS) * 1000;

    it('accepts just before expiry plus tolerance', () => {
      expect(codec.verify(envelope, expiredAt - 1).user.userId).toBe('alice');
    });

    it('rejects at expiry plus tolerance', () => {
      expect(reasonOf(codec, envelope, expiredAt)).toBe('expired');
    });

    it('rejects long after expiry', () => {
      expect(reasonOf(codec, envelope, NOW + 3_600_000)).toBe('expired');
    });

    it('accepts at issue time minus tolerance', () => {
      expect(codec.verify(envelope, earliest).user.userId).toBe('alice');
    });

    it('rejects before issue time minus tolerance', () => {
      expect(reasonOf(codec, envelope, earliest - 1)).toBe('not-yet-valid');
    });

    it('applies a custom clock tolerance', () => {
      const strict = codecWith({ clockToleranceSeconds: 0 });

      expect(reasonOf(strict, strict.sign(ALICE, 'req-1', NOW), NOW - 1)).toBe(
        'not-yet-valid',
      );
    });

    it('checks against the current time by default', () => {
      const stale = codec.sign(ALICE, 'req-1', Date.now() - 10 * 60_000);

      expect(() => codec.verify(stale)).toThrow(
        'User context envelope has expired.',
      );
    });

    it('accepts a fresh envelope by default', () => {
      expect(codec.verify(codec.sign(ALICE, 'req-1')).user.userId).toBe(
        'alice',
      );
    });
  });

  describe('each claim changed', () => {
    const envelope = codec.sign(ALICE, 'req-field', NOW, 'orders');
    const [version, keyId, payload, signature] = envelope.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());

    it.each([
      ['sub', 'mallory'],
      ['email', 'mallory@example.com'],
      ['roles', ['admin', 'auditor', 'root']],
      ['permissions', ['orders:read', 'orders:write', 'orders:read:all']],
      ['rid', 'req-other'],
      ['aud', 'inventory'],
      ['iat', claims.iat + 3600],
      ['exp', claims.exp + 3600],
    ])('rejects a changed %s', (field, value) => {
      const changed = Buffer.from(
        JSON.stringify({ ...claims, [field]: value }),
      ).toString('base64url');

      expect(
        reasonOf(codec, [version, keyId, changed, signature].join('.')),
      ).toBe('bad-signature');
    });
  });

  describe('audience', () => {
    const orders = codecWith({ audience: 'orders' });

    it('accepts an envelope for its service', () => {
      const envelope = codec.sign(ALICE, 'req-aud-1', Date.now(), 'orders');

      expect(orders.verify(envelope).user).toEqual(ALICE);
    });

    it('rejects an envelope for another service', () => {
      const envelope = codec.sign(ALICE, 'req-aud-2', Date.now(), 'inventory');

      expect(() => orders.verify(envelope)).toThrow(
        'User context envelope is not for this service ("orders").',
      );
    });

    it('rejects an envelope without audience', () => {
      const envelope = codec.sign(ALICE, 'req-aud-3');

      expect(() => orders.verify(envelope)).toThrow(ContextEnvelopeError);
    });

    it('ignores the audience when none is set', () => {
      const envelope = codec.sign(ALICE, 'req-aud-4', Date.now(), 'inventory');

      expect(codec.verify(envelope).requestId).toBe('req-aud-4');
    });

    it('cannot be changed without breaking the signature', () => {
      const envelope = codec.sign(ALICE, 'req-aud-5', Date.now(), 'inventory');
      const [version, keyId, payload, signature] = envelope.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const retargeted = Buffer.from(
        JSON.stringify({ ...claims, aud: 'orders' }),
      ).toString('base64url');

      expect(() =>
        orders.verify([version, keyId, retargeted, signature].join('.')),
      ).toThrow('User context envelope signature is invalid.');
    });
  });

  describe('Ed25519 keys', () => {
    const pair = generateKeyPairSync('ed25519');
    const signer = new ContextEnvelopeCodec({
      keys: [
        { id: 'ed1', publicKey: pair.publicKey, privateKey: pair.privateKey },
      ],
    });
    const verifier = new ContextEnvelopeCodec({
      keys: [{ id: 'ed1', publicKey: pair.publicKey }],
      audience: 'inventory',
      forwardedFrom: ['orders'],
    });

    it('verifies with the public key alone', () => {
      const envelope = signer.sign(ALICE, 'req-ed-1', Date.now(), 'inventory');

      expect(verifier.verify(envelope).user).toEqual(ALICE);
    });

    it('cannot sign without the private key', () => {
      expect(verifier.canSign).toBe(false);
      expect(() => verifier.sign(ALICE, 'req-ed-2')).toThrow(
        'has no private key',
      );
    });

    it('accepts an envelope forwarded by a listed service', () => {
      const envelope = signer.sign(ALICE, 'req-ed-3', Date.now(), 'orders');

      expect(verifier.verify(envelope).requestId).toBe('req-ed-3');
    });

    it('rejects an envelope for an unlisted service', () => {
      const envelope = signer.sign(ALICE, 'req-ed-4', Date.now(), 'payments');

      expect(() => verifier.verify(envelope)).toThrow(ContextEnvelopeError);
    });

    it('rejects a changed payload', () => {
      const envelope = signer.sign(ALICE, 'req-ed-5', Date.now(), 'inventory');
      const [version, keyId, payload, signature] = envelope.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
      const escalated = Buffer.from(
        JSON.stringify({ ...claims, permissions: ['*'] }),
      ).toString('base64url');

      expect(() =>
        verifier.verify([version, keyId, escalated, signature].join('.')),
      ).toThrow('User context envelope signature is invalid.');
    });

    it('rejects another key pair', () => {
      const other = generateKeyPairSync('ed25519');
      const impostor = new ContextEnvelopeCodec({
        keys: [
          {
            id: 'ed1',
            publicKey: other.publicKey,
            privateKey: other.privateKey,
          },
        ],
      });

      expect(() =>
        verifier.verify(
          impostor.sign(ALICE, 'req-ed-6', Date.now(), 'inventory'),
        ),
      ).toThrow('User context envelope signature is invalid.');
    });

    it('rejects an HMAC envelope under the same key id', () => {
      const hmacSigner = codecWith({ keys: [{ id: 'ed1', secret: SECRET_1 }] });

      expect(() =>
        verifier.verify(
          hmacSigner.sign(ALICE, 'req-ed-7', Date.now(), 'inventory'),
        ),
      ).toThrow(ContextEnvelopeError);
    });
  });

  describe('keys', () => {
    it('rejects another secret under the same id', () => {
      const impostor = new ContextEnvelopeCodec({
        keys: [{ id: 'k1', secret: OTHER_SECRET }],
      });

      expect(reasonOf(codec, impostor.sign(ALICE, 'req-1', NOW))).toBe(
        'bad-signature',
      );
    });

    it('rejects a key id not in the ring', () => {
      const stranger = new ContextEnvelopeCodec({
        keys: [{ id: 'k9', secret: SECRET_1 }],
      });

      expect(reasonOf(codec, stranger.sign(ALICE, 'req-1', NOW))).toBe(
        'unknown-key',
      );
    });

    it('verifies with a second ring key', () => {
      const ring = codecWith({
        keys: [
          { id: 'k1', secret: SECRET_1 },
          { id: 'k2', secret: SECRET_2 },
        ],
      });
      const signer = new ContextEnvelopeCodec({
        keys: [{ id: 'k2', secret: SECRET_2 }],
      });

      const verified = ring.verify(signer.sign(ALICE, 'req-1', NOW), NOW);

      expect(verified.keyId).toBe('k2');
      expect(verified.user).toStrictEqual(ALICE);
    });

    it('signs with the first ring key', () => {
      const ring = codecWith({
        keys: [
          { id: 'k2', secret: SECRET_2 },
          { id: 'k1', secret: SECRET_1 },
        ],
      });

      expect(ring.sign(ALICE, 'req-1', NOW).startsWith('v1.k2.')).toBe(true);
    });

    it('accepts a Buffer secret', () => {
      const bufferCodec = new ContextEnvelopeCodec({
        keys: [{ id: 'k1', secret: Buffer.from(SECRET_1) }],
      });

      expect(
        codec.verify(bufferCodec.sign(ALICE, 'req-1', NOW), NOW).user,
      ).toStrictEqual(ALICE);
    });
  });

  describe('garbage input', () => {
    it.each([
      ['undefined', undefined],
      ['null', null],
      ['empty string', ''],
    ])('reports %s as missing', (_name, input) => {
      expect(reasonOf(codec, input)).toBe('missing');
    });

    it.each([
      ['number', 42],
      ['object', { envelope: 'v1.k1.a.b' }],
      ['array', ['v1', 'k1', 'a', 'b']],
      ['boolean', true],
      ['three parts', 'a.b.c'],
      ['five parts', 'v1.k1.abc.def.ghi'],
      ['one part', 'garbage'],
      ['empty parts', 'v1.k1..'],
      ['plus in payload', 'v1.k1.ab+c.def'],
      ['slash in signature', 'v1.k1.abc.de/f'],
      ['space in payload', 'v1.k1.ab c.def'],
      ['non-ASCII payload', 'v1.k1.ábc.def'],
    ])('rejects %s as malformed', (_name, input) => {
      expect(reasonOf(codec, input)).toBe('malformed');
    });

    it('rejects a wrong version first', () => {
      expect(reasonOf(codec, 'a.b.c.d')).toBe('unsupported-version');
    });

    it('rejects an unsigned payload', () => {
      const payload = Buffer.from(JSON.stringify(validClaims())).toString(
        'base64url',
      );

      expect(reasonOf(codec, `v1.k1.${payload}.`)).toBe('malformed');
    });

    it('rejects a signed non-JSON payload', () => {
      expect(reasonOf(codec, signRaw('not json'))).toBe('malformed');
    });

    it.each([
      ['string', '"alice"'],
      ['number', '42'],
      ['null', 'null'],
      ['array', '[{"sub":"alice"}]'],
      ['boolean', 'true'],
    ])('rejects signed JSON %s as invalid claims', (_name, json) => {
      expect(reasonOf(codec, signRaw(json))).toBe('invalid-claims');
    });

    it('accepts valid hand-signed claims', () => {
      expect(
        codec.verify(signRaw(JSON.stringify(validClaims())), NOW).user.userId,
      ).toBe('alice');
    });

    it.each([
      ['missing sub', { sub: undefined }],
      ['empty sub', { sub: '' }],
      ['numeric sub', { sub: 7 }],
      ['numeric email', { email: 7 }],
      ['null email', { email: null }],
      ['missing roles', { roles: undefined }],
      ['roles string', { roles: 'admin' }],
      ['numeric role', { roles: ['admin', 1] }],
      ['missing permissions', { permissions: undefined }],
      ['null permission', { permissions: [null] }],
      ['missing rid', { rid: undefined }],
      ['numeric rid', { rid: 1 }],
      ['missing iat', { iat: undefined }],
      ['string iat', { iat: String(NOW_SECONDS) }],
      ['missing exp', { exp: undefined }],
      ['string exp', { exp: String(NOW_SECONDS + 60) }],
      ['null exp', { exp: null }],
    ])('rejects signed claims with %s', (_name, overrides) => {
      expect(
        reasonOf(codec, signRaw(JSON.stringify(validClaims(overrides)))),
      ).toBe('invalid-claims');
    });
  });

  describe('size limit', () => {
    it('refuses to sign an oversized context', () => {
      const crowded = {
        ...ALICE,
        permissions: Array.from({ length: 2000 }, (_, i) => `p${i}`),
      };

      expect(() => codec.sign(crowded, 'req-1', NOW)).toThrow(
        expect.objectContaining({ reason: 'too-large' }),
      );
    });

    it('rejects an envelope over the default limit', () => {
      expect(reasonOf(codec, 'x'.repeat(8193))).toBe('too-large');
    });

    it('rejects an envelope over a custom limit', () => {
      const small = codecWith({ maxLength: 100 });

      expect(reasonOf(small, codec.sign(ALICE, 'req-1', NOW))).toBe(
        'too-large',
      );
    });

    it('accepts an envelope at the limit', () => {
      const envelope = codec.sign(ALICE, 'req-1', NOW);
      const exact = codecWith({ maxLength: envelope.length });

      expect(exact.verify(envelope, NOW).user.userId).toBe('alice');
    });

    it('rejects one character over the limit', () => {
      const envelope = codec.sign(ALICE, 'req-1', NOW);
      const exact = codecWith({ maxLength: envelope.length - 1 });

      expect(reasonOf(exact, envelope)).toBe('too-large');
    });
  });

  describe('constructor', () => {
    it('rejects an empty key list', () => {
      expect(() => new ContextEnvelopeCodec({ keys: [] })).toThrow(
        'at least one key',
      );
    });

    it('rejects a 31-byte secret', () => {
      expect(() =>
        codecWith({ keys: [{ id: 'k1', secret: 'x'.repeat(31) }] }),
      ).toThrow('at least 32');
    });

    it('accepts a 32-byte secret', () => {
      expect(() =>
        codecWith({ keys: [{ id: 'k1', secret: 'x'.repeat(32) }] }),
      ).not.toThrow();
    });

    it('rejects a 31-byte Buffer secret', () => {
      expect(() =>
        codecWith({ keys: [{ id: 'k1', secret: Buffer.alloc(31, 1) }] }),
      ).toThrow('at least 32');
    });

    it('counts secret bytes, not characters', () => {
      // 'é' is 2 bytes in UTF-8: 15 of them are 30 bytes.
      expect(() =>
        codecWith({ keys: [{ id: 'k1', secret: 'é'.repeat(15) }] }),
      ).toThrow('at least 32');
    });

    it('rejects a short secret after a valid key', () => {
      expect(() =>
        codecWith({
          keys: [
            { id: 'k1', secret: SECRET_1 },
            { id: 'k2', secret: 'short' },
          ],
        }),
      ).toThrow('"k2"');
    });

    it.each([
      ['empty', ''],
      ['dot', 'k.1'],
      ['space', 'k 1'],
      ['slash', 'k/1'],
      ['65 characters', 'k'.repeat(65)],
    ])('rejects a key id with %s', (_name, id) => {
      expect(() => codecWith({ keys: [{ id, secret: SECRET_1 }] })).toThrow(
        'key id',
      );
    });

    it('accepts a 64-character key id', () => {
      expect(() =>
        codecWith({ keys: [{ id: 'k'.repeat(64), secret: SECRET_1 }] }),
      ).not.toThrow();
    });

    it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
      'rejects ttl %p',
      (ttlSeconds) => {
        expect(() => codecWith({ ttlSeconds })).toThrow('ttlSeconds');
      },
    );

    it('rejects a duplicate key id', () => {
      expect(() =>
        codecWith({
          keys: [
            { id: 'k1', secret: SECRET_1 },
            { id: 'k1', secret: 'y'.repeat(32) },
          ],
        }),
      ).toThrow('listed twice');
    });

    it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])(
      'rejects clock tolerance %p',
      (clockToleranceSeconds) => {
        expect(() => codecWith({ clockToleranceSeconds })).toThrow(
          'clockToleranceSeconds',
        );
      },
    );

    it.each([0, -5, 1.5, Number.NaN])('rejects max length %p', (maxLength) => {
      expect(() => codecWith({ maxLength })).toThrow('maxLength');
    });
  });
});

import * as fc from 'fast-check';

import { UserContext } from '../user-context.interface';
import { ContextEnvelopeCodec } from './context-envelope.codec';
import { ContextEnvelopeError } from './context-envelope.error';

const codec = new ContextEnvelopeCodec({
  keys: [{ id: 'k1', secret: 'property-spec-secret-0123456789abcdef' }],
  audience: 'orders',
});

/** Any user the gateway could map from a token: unicode ids and lists included. */
const userArbitrary: fc.Arbitrary<UserContext> = fc.record(
  {
    userId: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
    email: fc.emailAddress(),
    roles: fc.uniqueArray(fc.string({ maxLength: 20 }), { maxLength: 5 }),
    permissions: fc.uniqueArray(fc.string({ maxLength: 30 }), { maxLength: 8 }),
  },
  { requiredKeys: ['userId', 'roles', 'permissions'] },
);

const requestIdArbitrary = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);

describe('ContextEnvelopeCodec properties', () => {
  it('round-trips any user and request id', () => {
    fc.assert(
      fc.property(userArbitrary, requestIdArbitrary, (user, requestId) => {
        const verified = codec.verify(
          codec.sign(user, requestId, Date.now(), 'orders'),
        );

        expect(verified.user).toEqual(user);
        expect(verified.requestId).toBe(requestId);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects any single-character change', () => {
    fc.assert(
      fc.property(
        userArbitrary,
        requestIdArbitrary,
        fc.nat(),
        fc.integer({ min: 0, max: 127 }),
        (user, requestId, position, code) => {
          const envelope = codec.sign(user, requestId, Date.now(), 'orders');
          const index = position % envelope.length;
          const replacement = String.fromCharCode(code);
          fc.pre(replacement !== envelope[index]);
          const changed =
            envelope.slice(0, index) + replacement + envelope.slice(index + 1);

          expect(() => codec.verify(changed)).toThrow(ContextEnvelopeError);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects any single-bit change in the payload bytes', () => {
    fc.assert(
      fc.property(
        userArbitrary,
        requestIdArbitrary,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (user, requestId, position, bit) => {
          const [version, keyId, payload, signature] = codec
            .sign(user, requestId, Date.now(), 'orders')
            .split('.');
          const bytes = Buffer.from(payload, 'base64url');
          bytes[position % bytes.length] ^= 1 << bit;
          const changed = [
            version,
            keyId,
            bytes.toString('base64url'),
            signature,
          ].join('.');

          expect(() => codec.verify(changed)).toThrow(ContextEnvelopeError);
        },
      ),
      { numRuns: 500 },
    );
  });
});

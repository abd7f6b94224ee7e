import {
  defaultClaimsMapper,
  InvalidClaimsError,
  JwtClaims,
} from './claims-mapper';

function mappingError(claims: JwtClaims): InvalidClaimsError {
  try {
    defaultClaimsMapper(claims);
  } catch (error) {
    if (error instanceof InvalidClaimsError) {
      return error;
    }
    throw error;
  }
  throw new Error(`defaultClaimsMapper accepted ${JSON.stringify(claims)}`);
}

describe('defaultClaimsMapper', () => {
  describe('subject', () => {
    it('maps sub to userId', () => {
      expect(defaultClaimsMapper({ sub: 'user-42' }).userId).toBe('user-42');
    });

    it('keeps sub unchanged', () => {
      expect(defaultClaimsMapper({ sub: ' user-42 ' }).userId).toBe(
        ' user-42 ',
      );
    });

    it.each([
      ['missing', undefined],
      ['empty', ''],
      ['whitespace', ' \t\n'],
      ['number', 42],
      ['null', null],
      ['object', { id: 'user-42' }],
      ['array', ['user-42']],
    ])('rejects %s sub', (_name, sub) => {
      expect(mappingError({ sub }).message).toContain('"sub"');
    });

    it('names the error class', () => {
      expect(mappingError({}).name).toBe('InvalidClaimsError');
    });

    it.each([
      ['a lone high surrogate', 'alice\ud800'],
      ['a lone low surrogate', '\udc00alice'],
      ['CR LF', 'alice\r\nx-admin: 1'],
      ['a NUL byte', 'alice\u0000'],
      ['256 characters', 'a'.repeat(256)],
    ])('rejects sub with %s', (_name, sub) => {
      expect(mappingError({ sub }).message).toContain(
        '"sub" must be at most 255 characters',
      );
    });

    it.each([
      ['255 characters', 'a'.repeat(255)],
      ['an emoji', 'alice-😀'],
      ['accents', 'zoë@example.com'],
    ])('accepts sub with %s', (_name, sub) => {
      expect(defaultClaimsMapper({ sub }).userId).toBe(sub);
    });
  });

  describe('email', () => {
    it('copies a string email', () => {
      expect(
        defaultClaimsMapper({ sub: 'u', email: 'u@example.com' }).email,
      ).toBe('u@example.com');
    });

    it('omits an absent email', () => {
      expect(defaultClaimsMapper({ sub: 'u' })).not.toHaveProperty('email');
    });

    it.each([
      ['number', 1],
      ['null', null],
      ['boolean', true],
      ['array', ['u@example.com']],
    ])('rejects %s email', (_name, email) => {
      expect(mappingError({ sub: 'u', email }).message).toContain('"email"');
    });
  });

  describe('roles and permissions', () => {
    it('maps a complete claim set', () => {
      const user = defaultClaimsMapper({
        sub: 'u',
        email: 'u@example.com',
        roles: ['admin', 'auditor'],
        permissions: ['orders:read'],
        scope: 'orders:write',
        iss: 'ignored',
      });

      expect(user).toStrictEqual({
        userId: 'u',
        email: 'u@example.com',
        roles: ['admin', 'auditor'],
        permissions: ['orders:read', 'orders:write'],
      });
    });

    it('defaults missing lists to empty', () => {
      expect(defaultClaimsMapper({ sub: 'u' })).toStrictEqual({
        userId: 'u',
        roles: [],
        permissions: [],
      });
    });

    it('treats null lists as empty', () => {
      const user = defaultClaimsMapper({
        sub: 'u',
        roles: null,
        permissions: null,
        scope: null,
      });

      expect(user).toStrictEqual({ userId: 'u', roles: [], permissions: [] });
    });

    it('removes duplicate roles in order', () => {
      expect(
        defaultClaimsMapper({ sub: 'u', roles: ['b', 'a', 'b'] }).roles,
      ).toEqual(['b', 'a']);
    });

    it('appends scope words to permissions', () => {
      const user = defaultClaimsMapper({
        sub: 'u',
        permissions: ['a'],
        scope: 'b c',
      });

      expect(user.permissions).toEqual(['a', 'b', 'c']);
    });

    it('removes duplicates across permissions and scope', () => {
      const user = defaultClaimsMapper({
        sub: 'u',
        permissions: ['a', 'b', 'a'],
        scope: 'b c c a',
      });

      expect(user.permissions).toEqual(['a', 'b', 'c']);
    });

    it('ignores repeated spaces in scope', () => {
      expect(
        defaultClaimsMapper({ sub: 'u', scope: '  a   b ' }).permissions,
      ).toEqual(['a', 'b']);
    });

    it('maps an empty scope to nothing', () => {
      expect(defaultClaimsMapper({ sub: 'u', scope: '' }).permissions).toEqual(
        [],
      );
    });

    it('does not mutate the claims', () => {
      const claims = {
        sub: 'u',
        roles: ['a', 'a'],
        permissions: ['p', 'p'],
        scope: 'q',
      };

      defaultClaimsMapper(claims);

      expect(claims).toStrictEqual({
        sub: 'u',
        roles: ['a', 'a'],
        permissions: ['p', 'p'],
        scope: 'q',
      });
    });

    it.each([
      ['string roles', { roles: 'admin' }, '"roles"'],
      ['object roles', { roles: { 0: 'admin' } }, '"roles"'],
      ['numeric role', { roles: ['admin', 1] }, '"roles"'],
      ['null role', { roles: [null] }, '"roles"'],
      ['string permissions', { permissions: 'orders:read' }, '"permissions"'],
      ['numeric permission', { permissions: [1] }, '"permissions"'],
      [
        'nested permission',
        { permissions: [['orders:read']] },
        '"permissions"',
      ],
      ['array scope', { scope: ['orders:read'] }, '"scope"'],
      ['numeric scope', { scope: 1 }, '"scope"'],
      ['object scope', { scope: { read: true } }, '"scope"'],
    ])('rejects %s', (_name, claims, claimName) => {
      expect(mappingError({ sub: 'u', ...claims }).message).toContain(
        claimName,
      );
    });
  });
});

import { UserContext } from '../user-context.interface';

/** Longest accepted `sub`: services store user ids in 255-character columns. */
const MAX_SUBJECT_LENGTH = 255;

/**
 * Control characters and unpaired UTF-16 surrogates. Databases store a lone
 * surrogate as a replacement character, so the stored user id would no
 * longer equal the token's and ownership checks would fail.
 */
const UNSAFE_CHARACTERS = /[\p{Cc}\p{Cs}]/u;

/** Verified JWT claims, as `jsonwebtoken` decodes them. */
export type JwtClaims = Record<string, unknown>;

/**
 * Turns verified token claims into a `UserContext`. Throws `InvalidClaimsError`
 * when the claims cannot identify a user, and the gateway returns 401 for it.
 */
export type ClaimsMapper = (claims: JwtClaims) => UserContext;

/** Raised by a `ClaimsMapper` for claims that do not describe a usable user. */
export class InvalidClaimsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidClaimsError';
  }
}

/**
 * Maps standard claims: `sub` to `userId`, `email`, `roles` (array) and
 * `permissions` (array) plus the words of a space-separated `scope`.
 * Missing roles and permissions become empty lists.
 */
export const defaultClaimsMapper: ClaimsMapper = (claims) => {
  const { sub, email } = claims;
  if (typeof sub !== 'string' || sub.trim() === '') {
    throw new InvalidClaimsError('Token has no subject: the "sub" claim is missing or empty.');
  }
  if (sub.length > MAX_SUBJECT_LENGTH || UNSAFE_CHARACTERS.test(sub)) {
    throw new InvalidClaimsError(
      `Token claim "sub" must be at most ${MAX_SUBJECT_LENGTH} characters, without control characters or unpaired surrogates.`,
    );
  }
  if (email !== undefined && typeof email !== 'string') {
    throw new InvalidClaimsError('Token claim "email" must be a string.');
  }

  const roles = stringList(claims.roles, 'roles');
  const permissions = stringList(claims.permissions, 'permissions');
  const scopes = scopeWords(claims.scope);

  return {
    userId: sub,
    ...(email === undefined ? {} : { email }),
    roles: unique(roles),
    permissions: unique([...permissions, ...scopes]),
  };
};

function stringList(value: unknown, claim: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new InvalidClaimsError(`Token claim "${claim}" must be an array of strings.`);
  }
  return value;
}

function scopeWords(scope: unknown): string[] {
  if (scope === undefined || scope === null) {
    return [];
  }
  if (typeof scope !== 'string') {
    throw new InvalidClaimsError('Token claim "scope" must be a space-separated string.');
  }
  return scope.split(' ').filter((word) => word.length > 0);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

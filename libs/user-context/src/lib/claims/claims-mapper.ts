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
export const defaultClaimsMapper: ClaimsMapper = (claims) =>
  buildUser(claims.sub, claims.email, stringList(claims.roles, 'roles'), [
    ...stringList(claims.permissions, 'permissions'),
    ...scopeWords(claims.scope, 'scope'),
  ]);

/** Identity providers whose token layouts have a preset mapper. */
export const CLAIMS_PRESETS = [
  'default',
  'keycloak',
  'auth0',
  'azure',
] as const;

export type ClaimsPreset = (typeof CLAIMS_PRESETS)[number];

export interface ClaimsPresetOptions {
  /** Keycloak: the client whose `resource_access` roles become permissions. Default: the token's `azp`. */
  clientId?: string;
  /** Auth0: the prefix of custom claims, such as `https://platform.example/`. */
  namespace?: string;
}

/**
 * Returns the mapper of a preset:
 *
 * - `default`: see `defaultClaimsMapper`.
 * - `keycloak`: `realm_access.roles` are roles; the roles of the client in
 *   `resource_access` and the words of `scope` are permissions.
 * - `auth0`: `permissions` (Auth0 RBAC) and `scope` are permissions; roles
 *   and email may come from namespaced custom claims (`<namespace>roles`,
 *   `<namespace>email`).
 * - `azure`: `oid` (or `sub`) is the user id; `roles` (app roles) are roles;
 *   the words of `scp` are permissions; the email is `email`,
 *   `preferred_username` or `upn`.
 *
 * For any other layout, pass your own `ClaimsMapper` as `claimsMapper` to
 * `UserContextModule.forRoot`.
 */
export function claimsMapperFor(
  preset: ClaimsPreset,
  options: ClaimsPresetOptions = {},
): ClaimsMapper {
  switch (preset) {
    case 'default':
      return defaultClaimsMapper;
    case 'keycloak':
      return (claims) => {
        const realm = objectClaim(claims.realm_access, 'realm_access');
        const resources = objectClaim(
          claims.resource_access,
          'resource_access',
        );
        const clientId =
          options.clientId ??
          (typeof claims.azp === 'string' ? claims.azp : undefined);
        const client =
          clientId === undefined
            ? {}
            : objectClaim(resources[clientId], `resource_access.${clientId}`);
        return buildUser(
          claims.sub,
          claims.email,
          stringList(realm.roles, 'realm_access.roles'),
          [
            ...stringList(client.roles, `resource_access.${clientId}.roles`),
            ...scopeWords(claims.scope, 'scope'),
          ],
        );
      };
    case 'auth0': {
      const namespace = options.namespace ?? '';
      return (claims) =>
        buildUser(
          claims.sub,
          claims.email ?? (namespace ? claims[`${namespace}email`] : undefined),
          namespace
            ? stringList(claims[`${namespace}roles`], `${namespace}roles`)
            : [],
          [
            ...stringList(claims.permissions, 'permissions'),
            ...scopeWords(claims.scope, 'scope'),
          ],
        );
    }
    case 'azure':
      return (claims) =>
        buildUser(
          claims.oid ?? claims.sub,
          claims.email ?? claims.preferred_username ?? claims.upn,
          stringList(claims.roles, 'roles'),
          scopeWords(claims.scp, 'scp'),
        );
  }
}

/** Checks the subject and email, and builds the user with unique roles and permissions. */
function buildUser(
  sub: unknown,
  email: unknown,
  roles: string[],
  permissions: string[],
): UserContext {
  if (typeof sub !== 'string' || sub.trim() === '') {
    throw new InvalidClaimsError(
      'Token has no subject: the "sub" claim is missing or empty.',
    );
  }
  if (sub.length > MAX_SUBJECT_LENGTH || UNSAFE_CHARACTERS.test(sub)) {
    throw new InvalidClaimsError(
      `Token claim "sub" must be at most ${MAX_SUBJECT_LENGTH} characters, without control characters or unpaired surrogates.`,
    );
  }
  if (email !== undefined && typeof email !== 'string') {
    throw new InvalidClaimsError('Token claim "email" must be a string.');
  }
  return {
    userId: sub,
    ...(email === undefined ? {} : { email }),
    roles: unique(roles),
    permissions: unique(permissions),
  };
}

function objectClaim(value: unknown, claim: string): Record<string, unknown> {
  if (value === undefined || value === null) {
    return {};
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidClaimsError(`Token claim "${claim}" must be an object.`);
  }
  return value as Record<string, unknown>;
}

function stringList(value: unknown, claim: string): string[] {
  if (value === undefined || value === null) {
    return [];
  }
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'string')
  ) {
    throw new InvalidClaimsError(
      `Token claim "${claim}" must be an array of strings.`,
    );
  }
  return value;
}

function scopeWords(scope: unknown, claim: string): string[] {
  if (scope === undefined || scope === null) {
    return [];
  }
  if (typeof scope !== 'string') {
    throw new InvalidClaimsError(
      `Token claim "${claim}" must be a space-separated string.`,
    );
  }
  return scope.split(' ').filter((word) => word.length > 0);
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

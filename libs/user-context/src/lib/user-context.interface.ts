/**
 * The identity of the user on whose behalf a request runs, as the gateway
 * derived it from a verified token. Services receive it only inside a signed
 * envelope and never see the token itself.
 */
export interface UserContext {
  /** Stable user id, from the token's `sub` claim. Never empty. */
  userId: string;
  /** The user's e-mail address, when the token carries one. */
  email?: string;
  /** Role names, in token order, without duplicates. */
  roles: string[];
  /** Permission names, including the words of the token's `scope` claim. */
  permissions: string[];
}

import { currentScope, runInScope } from '../context/request-scope';
import {
  ContextEnvelopeCodec,
  VerifiedEnvelope,
} from '../envelope/context-envelope.codec';

/** Raised when a service call is made outside any authenticated scope. */
export class MissingUserContextError extends Error {
  constructor() {
    super(
      'No user context to propagate: services can only be called while handling an authenticated request or message.',
    );
    this.name = 'MissingUserContextError';
  }
}

/**
 * Signs the user of the current scope for the next hop, to the service
 * `audience`. Throws `MissingUserContextError` when there is none, so an
 * outgoing call never leaves without an identity.
 */
export function signCurrentUser(
  codec: ContextEnvelopeCodec,
  audience?: string,
): string {
  const scope = currentScope();
  if (!scope?.user) {
    throw new MissingUserContextError();
  }
  if (!codec.canSign && scope.envelope) {
    // Ed25519: only the gateway can sign. The envelope received goes on
    // unchanged; its receiver must list this service in `forwardedFrom`.
    return scope.envelope;
  }
  return codec.sign(scope.user, scope.requestId, Date.now(), audience);
}

/**
 * Runs `handler` in a fresh scope that contains a verified envelope's user and
 * request id. The scope never inherits from the caller's, so a message can
 * never run as the user of the message before it on the same socket.
 */
export function runInVerifiedScope<T>(
  verified: VerifiedEnvelope,
  handler: () => T,
): T {
  return runInScope(
    {
      requestId: verified.requestId,
      user: verified.user,
      envelope: verified.envelope,
    },
    handler,
  );
}

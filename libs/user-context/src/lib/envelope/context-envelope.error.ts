/** Reason code of a failed envelope verification. */
export type ContextEnvelopeFailure =
  | 'missing'
  | 'too-large'
  | 'malformed'
  | 'unsupported-version'
  | 'unknown-key'
  | 'bad-signature'
  | 'invalid-claims'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience';

/**
 * Raised when a signed user-context envelope is missing or cannot be trusted.
 * The message names the failure but never echoes the envelope, so it is safe
 * to log and to return to the caller.
 */
export class ContextEnvelopeError extends Error {
  constructor(
    readonly reason: ContextEnvelopeFailure,
    message: string,
  ) {
    super(message);
    this.name = 'ContextEnvelopeError';
  }
}

import { Logger } from '@nestjs/common';
import { MessageHandler } from '@nestjs/microservices';
import { catchError, EMPTY, isObservable } from 'rxjs';

import {
  ContextEnvelopeCodec,
  VerifiedEnvelope,
} from '../envelope/context-envelope.codec';
import { ContextEnvelopeError } from '../envelope/context-envelope.error';
import {
  isRpcErrorBody,
  RpcErrorBody,
  toRpcErrorBody,
} from '../errors/rpc-error';
import { WarningThrottle } from './warning-throttle';

/** Maximum length of a pattern or packet id echoed into a log line or a reply. */
const MAX_ECHOED_LENGTH = 200;

/** The outcome of checking one message's envelope. */
export type GateResult =
  | { verified: VerifiedEnvelope; rejection?: undefined }
  | { verified?: undefined; rejection: RpcErrorBody };

/**
 * The part of every context server strategy that does not depend on the
 * transport: verifying an envelope, logging rejections without letting a
 * flood of forged messages flood the log too, and logging failed events.
 */
export class EnvelopeGate {
  private readonly logger: Logger;
  private readonly rejections: WarningThrottle;

  /**
   * @param resolveCodec returns the codec that verifies envelopes. A function,
   *   because the codec comes from the application's DI container, which
   *   exists only after the strategy has been handed to Nest.
   */
  constructor(
    context: string,
    private readonly resolveCodec: () => ContextEnvelopeCodec,
  ) {
    this.logger = new Logger(context);
    this.rejections = new WarningThrottle(this.logger);
  }

  /**
   * Verifies `envelope`. A missing or invalid one is logged (rate limited)
   * and comes back as the 401 error body to send to the caller, if any.
   */
  check(envelope: unknown, pattern: unknown): GateResult {
    try {
      return { verified: this.resolveCodec().verify(envelope) };
    } catch (error) {
      const reason =
        error instanceof ContextEnvelopeError ? error.reason : 'error';
      this.rejections.warn(
        `Rejected message ${echo(pattern)}: envelope ${reason}.`,
      );
      return { rejection: toRpcErrorBody(error) };
    }
  }

  /** Logs, rate limited, a message dropped before its envelope could be read. */
  drop(reason: string): void {
    this.rejections.warn(reason);
  }

  /**
   * Wraps an event handler so that its failure is logged. An event has no
   * caller to receive the error, so without this line a rejected event
   * (invalid payload, missing permission) would vanish without a trace.
   */
  logFailures(pattern: string, handler: MessageHandler): MessageHandler {
    const logged = (async (data: unknown, context: unknown) => {
      const result = await handler(data, context);
      if (!isObservable(result)) {
        return result;
      }
      return result.pipe(
        catchError((error: unknown) => {
          this.logEventFailure(pattern, error);
          return EMPTY;
        }),
      );
    }) as MessageHandler;
    // Nest chains further handlers of the same event through `next`, set on
    // the registered function and read from the original one.
    Object.defineProperty(logged, 'next', {
      get: () => handler.next,
      set: (next: MessageHandler) => {
        handler.next = next;
      },
    });
    return logged;
  }

  private logEventFailure(pattern: string, error: unknown): void {
    const detail = isRpcErrorBody(error)
      ? `${error.statusCode} ${[error.message].flat().join('; ')}`
      : String(error);
    this.logger.warn(`Event ${echo(pattern)} failed: ${detail}`);
  }
}

/** Only short strings and numbers are echoed, so a hostile packet cannot bloat a log line or a reply. */
export function isEchoable(value: unknown): value is string | number {
  return (
    (typeof value === 'string' && value.length <= MAX_ECHOED_LENGTH) ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function echo(value: unknown): string {
  return isEchoable(value)
    ? JSON.stringify(value)
    : `(${typeof value} pattern)`;
}

import { Inject, Injectable } from '@nestjs/common';

import { USER_CONTEXT_OPTIONS } from '../user-context.constants';
import { UserContextModuleOptions } from '../user-context.options';
import { UserContextService } from '../user-context.service';

/** One state change, as the caller describes it. */
export interface AuditEvent {
  /** Action name, as `<resource>.<verb>`: `order.create`. */
  action: string;
  /** Id of the resource that changed. */
  resourceId: string;
  /** `success`, or the reason it did not happen: `rejected`, `failure`. */
  outcome: string;
  /** Extra fields; never put tokens or secrets here. */
  details?: Record<string, unknown>;
}

/**
 * Writes one JSON line per state change, with the acting user and request id
 * taken from the current scope. The line contains ids only: no token, no
 * envelope, no secret.
 */
@Injectable()
export class AuditService {
  private readonly sink: (line: string) => void;

  constructor(
    @Inject(USER_CONTEXT_OPTIONS)
    private readonly options: UserContextModuleOptions,
    private readonly userContext: UserContextService,
  ) {
    this.sink =
      options.auditSink ?? ((line) => process.stdout.write(`${line}\n`));
  }

  record(event: AuditEvent): void {
    const line = {
      type: 'audit',
      time: new Date().toISOString(),
      service: this.options.serviceName,
      action: event.action,
      userId: this.userContext.find()?.userId ?? null,
      requestId: this.userContext.requestId() ?? null,
      resourceId: event.resourceId,
      outcome: event.outcome,
      ...(event.details ? { details: event.details } : {}),
    };
    this.sink(JSON.stringify(line));
  }
}

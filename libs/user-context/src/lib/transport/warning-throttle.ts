import { Logger } from '@nestjs/common';

/**
 * Logs at most `limit` warnings per `windowMs`, then one line with the count
 * of those it dropped, so that a peer flooding a port with bad packets
 * cannot flood the log too.
 */
export class WarningThrottle {
  private windowStart = 0;
  private logged = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly limit = 20,
    private readonly windowMs = 10_000,
  ) {}

  warn(message: string, now = Date.now()): void {
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) {
        this.logger.warn(
          `${this.suppressed} similar warnings were suppressed in the last window.`,
        );
      }
      this.windowStart = now;
      this.logged = 0;
      this.suppressed = 0;
    }
    if (this.logged < this.limit) {
      this.logged += 1;
      this.logger.warn(message);
      return;
    }
    this.suppressed += 1;
  }
}

import { setTimeout as sleep } from 'node:timers/promises';

import { runInScope } from '../context/request-scope';
import { ContextLogger } from './context-logger';

describe('ContextLogger', () => {
  let stdout: string[];
  let stderr: string[];

  beforeEach(() => {
    stdout = [];
    stderr = [];
    jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        stdout.push(String(chunk));
        return true;
      });
    jest
      .spyOn(process.stderr, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        stderr.push(String(chunk));
        return true;
      });
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  describe('text mode', () => {
    let logger: ContextLogger;

    beforeEach(() => {
      logger = new ContextLogger({ colors: false });
    });

    it('adds the id inside a scope', () => {
      runInScope({ requestId: 'req-1' }, () => logger.log('hello', 'Orders'));

      expect(stdout).toHaveLength(1);
      expect(stdout[0]).toContain('[Orders] [request req-1] hello');
    });

    it('adds the id to errors', () => {
      runInScope({ requestId: 'req-2' }, () =>
        logger.error('failed', undefined, 'Orders'),
      );

      expect(stderr).toHaveLength(1);
      expect(stderr[0]).toContain('[Orders] [request req-2] failed');
    });

    it('leaves lines outside a scope unchanged', () => {
      logger.log('started', 'Orders');

      expect(stdout).toHaveLength(1);
      expect(stdout[0]).toContain('[Orders] started');
      expect(stdout[0]).not.toContain('[request');
    });

    it('keeps interleaved scopes apart', async () => {
      const handle = (requestId: string, delayMs: number) =>
        runInScope({ requestId }, async () => {
          logger.log(`${requestId} before`, 'Orders');
          await sleep(delayMs);
          logger.log(`${requestId} after`, 'Orders');
        });

      await Promise.all([handle('slow', 30), handle('fast', 5)]);

      expect(stdout).toHaveLength(4);
      expect(stdout[0]).toContain('[request slow] slow before');
      expect(stdout[1]).toContain('[request fast] fast before');
      expect(stdout[2]).toContain('[request fast] fast after');
      expect(stdout[3]).toContain('[request slow] slow after');
    });
  });

  describe('JSON mode', () => {
    let logger: ContextLogger;

    beforeEach(() => {
      logger = new ContextLogger({ json: true });
    });

    function parsedLines(): Array<Record<string, unknown>> {
      return stdout.map((line) => JSON.parse(line) as Record<string, unknown>);
    }

    it('adds requestId inside a scope', () => {
      runInScope({ requestId: 'req-3' }, () => logger.log('hello', 'Orders'));

      const [line] = parsedLines();

      expect(stdout).toHaveLength(1);
      expect(line.requestId).toBe('req-3');
      expect(line.context).toBe('Orders');
      expect(line.message).toBe('hello');
    });

    it('omits requestId outside a scope', () => {
      logger.log('started', 'Orders');

      const [line] = parsedLines();

      expect(stdout).toHaveLength(1);
      expect(line).not.toHaveProperty('requestId');
      expect(line.message).toBe('started');
    });
  });
});

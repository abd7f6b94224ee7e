import { Logger } from '@nestjs/common';

import { WarningThrottle } from './warning-throttle';

describe('WarningThrottle', () => {
  let messages: string[];
  let throttle: WarningThrottle;

  beforeEach(() => {
    messages = [];
    const logger = new Logger('spec');
    jest.spyOn(logger, 'warn').mockImplementation((message: unknown) => {
      messages.push(String(message));
    });
    throttle = new WarningThrottle(logger, 3, 1000);
  });

  it('logs up to the limit', () => {
    for (let i = 0; i < 3; i += 1) {
      throttle.warn(`w${i}`, 0);
    }

    expect(messages).toEqual(['w0', 'w1', 'w2']);
  });

  it('drops warnings past the limit', () => {
    for (let i = 0; i < 10; i += 1) {
      throttle.warn(`w${i}`, 500);
    }

    expect(messages).toHaveLength(3);
  });

  it('reports the dropped count next window', () => {
    for (let i = 0; i < 10; i += 1) {
      throttle.warn(`w${i}`, 0);
    }

    throttle.warn('later', 1000);

    expect(messages).toEqual([
      'w0',
      'w1',
      'w2',
      '7 similar warnings were suppressed in the last window.',
      'later',
    ]);
  });

  it('starts a quiet window without a report', () => {
    throttle.warn('first', 0);
    throttle.warn('second', 5000);

    expect(messages).toEqual(['first', 'second']);
  });
});

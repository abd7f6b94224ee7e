import 'reflect-metadata';
import { ArgumentMetadata, BadRequestException } from '@nestjs/common';

import { CreateOrderDto, OrderCreatedEvent } from './dto';
import {
  createValidationPipes,
  MaxDepthPipe,
  ParseSkuPipe,
  SyncValidationPipe,
} from './validation';

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
});

/** Returns the message of the BadRequestException that `run` throws. */
async function rejection(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).getResponse();
  }
  throw new Error('expected a BadRequestException');
}

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let level = 0; level < depth; level += 1) {
    value = [value];
  }
  return value;
}

describe('MaxDepthPipe', () => {
  const pipe = new MaxDepthPipe(4);

  it('passes shallow values unchanged', () => {
    const value = { a: [{ b: 1 }] };

    expect(pipe.transform(value, body(Object))).toBe(value);
  });

  it('rejects values deeper than the limit', async () => {
    const response = await rejection(() =>
      pipe.transform({ a: nested(4) }, body(Object)),
    );

    expect(response).toEqual(
      expect.objectContaining({
        message: 'Input is nested deeper than 4 levels.',
      }),
    );
  });

  it('checks 100,000 levels without overflowing', async () => {
    await rejection(() =>
      new MaxDepthPipe().transform(nested(100_000), body(Object)),
    );
  });

  it('skips custom decorator values', () => {
    const deep = nested(10);

    expect(pipe.transform(deep, { type: 'custom' })).toBe(deep);
  });
});

describe('ParseSkuPipe', () => {
  const pipe = new ParseSkuPipe();

  it.each(['KB-001', 'a', 'A'.repeat(64)])('accepts %s', (sku) => {
    expect(pipe.transform(sku)).toBe(sku);
  });

  it.each([
    ['empty', ''],
    ['underscore', 'KB_001'],
    ['65 characters', 'A'.repeat(65)],
    ['slash', '../x'],
    ['number', 42],
  ])('rejects %s', async (_name, sku) => {
    const response = await rejection(() => pipe.transform(sku));

    expect(response).toEqual(
      expect.objectContaining({
        message: 'sku must be 1-64 letters, digits or dashes',
      }),
    );
  });
});

describe('SyncValidationPipe with CreateOrderDto', () => {
  const pipe = new SyncValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
  });

  it('transforms a valid body', async () => {
    const result = await pipe.transform(
      { items: [{ sku: 'KB-001', quantity: 2 }] },
      body(CreateOrderDto),
    );

    expect(result).toBeInstanceOf(CreateOrderDto);
    expect(result.items).toEqual([{ sku: 'KB-001', quantity: 2 }]);
  });

  it.each([
    ['no items', {}],
    ['empty items', { items: [] }],
    [
      '51 lines',
      {
        items: Array.from({ length: 51 }, () => ({
          sku: 'KB-001',
          quantity: 1,
        })),
      },
    ],
    ['quantity zero', { items: [{ sku: 'KB-001', quantity: 0 }] }],
    ['quantity over 10000', { items: [{ sku: 'KB-001', quantity: 10_001 }] }],
    ['a nested empty array', { items: [[]] }],
    [
      'an item in a nested array',
      { items: [[{ sku: 'KB-001', quantity: 1 }]] },
    ],
    ['a null item', { items: [null] }],
    [
      'an unknown field',
      { items: [{ sku: 'KB-001', quantity: 1 }], createdBy: 'mallory' },
    ],
    [
      'an unknown item field',
      { items: [{ sku: 'KB-001', quantity: 1, price: 0 }] },
    ],
  ])('rejects %s', async (_name, value) => {
    await rejection(() => pipe.transform(value, body(CreateOrderDto)));
  });

  it('rejects an event without a uuid', async () => {
    const value = {
      orderId: 'not-a-uuid',
      items: [{ sku: 'KB-001', quantity: 1 }],
    };

    await rejection(() => pipe.transform(value, body(OrderCreatedEvent)));
  });
});

describe('createValidationPipes', () => {
  it('puts the depth check first', () => {
    const pipes = createValidationPipes();

    expect(pipes[0]).toBeInstanceOf(MaxDepthPipe);
    expect(pipes[1]).toBeInstanceOf(SyncValidationPipe);
  });
});

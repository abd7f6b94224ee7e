import { Metadata, status } from '@grpc/grpc-js';

import { RpcErrorBody } from '../errors/rpc-error';
import { ServiceUnreachableError } from './context-client';
import {
  fromGrpcError,
  GRPC_ERROR_BODY_KEY,
  GrpcStatus,
  toGrpcError,
} from './context-grpc';

function grpcError(code: number, details: string, encodedBody?: string) {
  const metadata = new Metadata();
  if (encodedBody !== undefined) {
    metadata.set(GRPC_ERROR_BODY_KEY, encodedBody);
  }
  return { code, details, metadata };
}

describe('context-grpc errors', () => {
  describe('GrpcStatus', () => {
    it.each(Object.entries(GrpcStatus))(
      'matches grpc-js for %s',
      (name, code) => {
        expect(code).toBe(status[name as keyof typeof status]);
      },
    );
  });

  describe('toGrpcError', () => {
    it.each<[number, keyof typeof status]>([
      [400, 'INVALID_ARGUMENT'],
      [401, 'UNAUTHENTICATED'],
      [403, 'PERMISSION_DENIED'],
      [404, 'NOT_FOUND'],
      [409, 'ALREADY_EXISTS'],
      [429, 'RESOURCE_EXHAUSTED'],
      [503, 'UNAVAILABLE'],
      [504, 'DEADLINE_EXCEEDED'],
    ])('maps HTTP %i to %s', (statusCode, name) => {
      expect(toGrpcError({ statusCode, message: 'failed' }).code).toBe(
        status[name],
      );
    });

    it('maps a 500 body to INTERNAL', () => {
      const body = { statusCode: 500, message: 'Internal server error' };

      expect(toGrpcError(body).code).toBe(status.INTERNAL);
    });

    it('maps an unmapped 5xx to INTERNAL', () => {
      expect(toGrpcError({ statusCode: 502, message: 'failed' }).code).toBe(
        status.INTERNAL,
      );
    });

    it('maps an unmapped 4xx to UNKNOWN', () => {
      expect(toGrpcError({ statusCode: 418, message: 'teapot' }).code).toBe(
        status.UNKNOWN,
      );
    });

    describe('with a plain Error', () => {
      const detail = 'connection to db-internal:5432 failed';
      const error = toGrpcError(new Error(detail));
      const encoded = String(error.metadata?.get(GRPC_ERROR_BODY_KEY)[0]);

      it('maps to INTERNAL', () => {
        expect(error.code).toBe(status.INTERNAL);
      });

      it('sends a generic message', () => {
        expect(error.details).toBe('Internal server error');
      });

      it('keeps the detail out of the metadata', () => {
        expect(encoded).not.toContain(detail);
      });

      it('sends a generic 500 body', () => {
        expect(JSON.parse(encoded)).toEqual({
          statusCode: 500,
          message: 'Internal server error',
          error: 'Internal Server Error',
        });
      });
    });

    it('keeps a string message as details', () => {
      const error = toGrpcError({
        statusCode: 404,
        message: 'Order 7 not found',
      });

      expect(error.details).toBe('Order 7 not found');
    });

    it('joins an array message', () => {
      const body = {
        statusCode: 400,
        message: ['name is empty', 'price is negative'],
      };

      expect(toGrpcError(body).details).toBe(
        'name is empty; price is negative',
      );
    });
  });

  describe('round trip', () => {
    it.each<[string, RpcErrorBody]>([
      [
        'a string message',
        { statusCode: 404, message: 'Order 7 not found', error: 'Not Found' },
      ],
      [
        'an array message',
        {
          statusCode: 400,
          message: ['name is empty', 'price is negative'],
          error: 'Bad Request',
        },
      ],
      ['no error field', { statusCode: 409, message: 'Order 7 exists' }],
      ['an unmapped status', { statusCode: 418, message: 'teapot' }],
      ['a 500 body', { statusCode: 500, message: 'Internal server error' }],
    ])('keeps %s', (_name, body) => {
      expect(fromGrpcError(toGrpcError(body))).toEqual(body);
    });
  });

  describe('fromGrpcError', () => {
    it.each<[keyof typeof status, number]>([
      ['INVALID_ARGUMENT', 400],
      ['NOT_FOUND', 404],
      ['PERMISSION_DENIED', 403],
      ['UNAUTHENTICATED', 401],
      ['ALREADY_EXISTS', 409],
    ])('maps %s to HTTP %i', (name, statusCode) => {
      const error = grpcError(status[name], 'failed');

      expect(fromGrpcError(error)).toEqual({ statusCode, message: 'failed' });
    });

    it.each<[keyof typeof status, number]>([
      ['RESOURCE_EXHAUSTED', 502],
      ['DEADLINE_EXCEEDED', 504],
      ['DATA_LOSS', 502],
      ['UNKNOWN', 502],
    ])('maps %s to HTTP %i without its details', (name, statusCode) => {
      const error = grpcError(
        status[name],
        'Sent message larger than max (1162565 vs. 1048576)',
      );

      expect(fromGrpcError(error)).toEqual({
        statusCode,
        message: `The service call failed with gRPC status ${status[name]}.`,
      });
    });

    it('maps an error without metadata', () => {
      const error = { code: status.NOT_FOUND, details: 'Order 7 not found' };

      expect(fromGrpcError(error)).toEqual({
        statusCode: 404,
        message: 'Order 7 not found',
      });
    });

    it('names the code of a 4xx without details', () => {
      expect(fromGrpcError(grpcError(status.NOT_FOUND, ''))).toEqual({
        statusCode: 404,
        message: `gRPC status ${status.NOT_FOUND}`,
      });
    });

    describe('with UNAVAILABLE', () => {
      const error = fromGrpcError(
        grpcError(status.UNAVAILABLE, 'No connection established'),
      );

      it('returns ServiceUnreachableError', () => {
        expect(error).toBeInstanceOf(ServiceUnreachableError);
      });

      it('has code UNAVAILABLE', () => {
        expect((error as ServiceUnreachableError).code).toBe('UNAVAILABLE');
      });

      it('keeps the details', () => {
        expect((error as ServiceUnreachableError).message).toContain(
          'No connection established',
        );
      });

      it("keeps a service's own 503 body", () => {
        const body = {
          statusCode: 503,
          message: 'Payment provider down',
          error: 'Service Unavailable',
        };

        expect(fromGrpcError(toGrpcError(body))).toEqual(body);
      });
    });

    it('falls back on malformed JSON', () => {
      const error = grpcError(
        status.NOT_FOUND,
        'Order 7 not found',
        '{"statusCode":4',
      );

      expect(fromGrpcError(error)).toEqual({
        statusCode: 404,
        message: 'Order 7 not found',
      });
    });

    it('falls back on a foreign body', () => {
      const error = grpcError(
        status.PERMISSION_DENIED,
        'denied',
        '{"reason":"policy"}',
      );

      expect(fromGrpcError(error)).toEqual({
        statusCode: 403,
        message: 'denied',
      });
    });

    it.each([
      ['a string', 'socket hang up'],
      ['a number', 42],
      ['null', null],
      ['undefined', undefined],
    ])('returns %s unchanged', (_name, value) => {
      expect(fromGrpcError(value)).toBe(value);
    });

    it('returns an Error unchanged', () => {
      const error = new Error('socket hang up');

      expect(fromGrpcError(error)).toBe(error);
    });

    it('returns a string code unchanged', () => {
      const error = { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' };

      expect(fromGrpcError(error)).toBe(error);
    });
  });
});

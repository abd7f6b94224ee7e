import { transportFromEnv } from '../config/env';
import {
  CONTEXT_TRANSPORTS,
  namespacePrefix,
  redisOptionsFromUrl,
} from './transport-settings';

describe('transport settings', () => {
  describe('transportFromEnv', () => {
    it('applies defaults', () => {
      expect(transportFromEnv({})).toEqual({
        transport: 'tcp',
        natsUrl: 'nats://127.0.0.1:4222',
        rabbitmqUrl: 'amqp://guest:guest@127.0.0.1:5672',
        redisUrl: 'redis://127.0.0.1:6379',
        namespace: '',
      });
    });

    it('defaults an empty TRANSPORT', () => {
      expect(transportFromEnv({ TRANSPORT: '' }).transport).toBe('tcp');
    });

    it('reads the broker URLs', () => {
      const env = {
        NATS_URL: 'nats://127.0.0.1:14222',
        RABBITMQ_URL: 'amqp://app:secret@127.0.0.1:15672',
        REDIS_URL: 'redis://127.0.0.1:16379/2',
      };

      const settings = transportFromEnv(env);

      expect(settings.natsUrl).toBe(env.NATS_URL);
      expect(settings.rabbitmqUrl).toBe(env.RABBITMQ_URL);
      expect(settings.redisUrl).toBe(env.REDIS_URL);
    });

    it.each(CONTEXT_TRANSPORTS)('accepts %s', (transport) => {
      expect(transportFromEnv({ TRANSPORT: transport }).transport).toBe(
        transport,
      );
    });

    it('lowercases NATS', () => {
      expect(transportFromEnv({ TRANSPORT: 'NATS' }).transport).toBe('nats');
    });

    it('rejects an unknown transport', () => {
      expect(() => transportFromEnv({ TRANSPORT: 'kafka' })).toThrow(
        'TRANSPORT must be one of tcp, nats, rmq, redis, grpc, got "kafka".',
      );
    });

    it.each([
      ['letters', 'staging'],
      ['digits', '2024'],
      ['underscores and dashes', 'ci_run-42'],
      ['64 characters', 'a'.repeat(64)],
    ])('accepts a namespace of %s', (_name, namespace) => {
      expect(transportFromEnv({ BROKER_NAMESPACE: namespace }).namespace).toBe(
        namespace,
      );
    });

    it('accepts an empty namespace', () => {
      expect(transportFromEnv({ BROKER_NAMESPACE: '' }).namespace).toBe('');
    });

    it.each([
      ['a dot', 'ci.run'],
      ['a space', 'ci run'],
      ['65 characters', 'a'.repeat(65)],
    ])('rejects a namespace with %s', (_name, namespace) => {
      expect(() => transportFromEnv({ BROKER_NAMESPACE: namespace })).toThrow(
        'BROKER_NAMESPACE',
      );
    });
  });

  describe('redisOptionsFromUrl', () => {
    it('parses host and port', () => {
      expect(redisOptionsFromUrl('redis://127.0.0.1:16379')).toEqual({
        host: '127.0.0.1',
        port: 16379,
      });
    });

    it('defaults the port', () => {
      expect(redisOptionsFromUrl('redis://127.0.0.1').port).toBe(6379);
    });

    it('decodes the password', () => {
      const options = redisOptionsFromUrl(
        'redis://:p%40ss%3Aword@127.0.0.1:6379',
      );

      expect(options.password).toBe('p@ss:word');
    });

    it('omits a missing password', () => {
      expect(redisOptionsFromUrl('redis://127.0.0.1:6379')).not.toHaveProperty(
        'password',
      );
    });

    it('parses the db', () => {
      expect(redisOptionsFromUrl('redis://127.0.0.1:6379/3').db).toBe(3);
    });

    it('omits a missing db', () => {
      expect(redisOptionsFromUrl('redis://127.0.0.1:6379/')).not.toHaveProperty(
        'db',
      );
    });

    it('parses every part', () => {
      expect(redisOptionsFromUrl('redis://:secret@127.0.0.1:6380/1')).toEqual({
        host: '127.0.0.1',
        port: 6380,
        password: 'secret',
        db: 1,
      });
    });

    it('rejects http://', () => {
      expect(() => redisOptionsFromUrl('http://127.0.0.1:6379')).toThrow(
        'REDIS_URL must start with redis://, got "http://".',
      );
    });

    it('rejects a non-numeric db', () => {
      expect(() => redisOptionsFromUrl('redis://127.0.0.1:6379/cache')).toThrow(
        'REDIS_URL must end with a database number',
      );
    });

    it.each(['-1', '0x10', '1e1', '1.0'])('rejects the db %s', (db) => {
      expect(() => redisOptionsFromUrl(`redis://127.0.0.1:6379/${db}`)).toThrow(
        'REDIS_URL must end with a database number',
      );
    });
  });

  describe('namespacePrefix', () => {
    it('adds a dot when set', () => {
      expect(namespacePrefix({ namespace: 'staging' })).toBe('staging.');
    });

    it('is empty when unset', () => {
      expect(namespacePrefix({ namespace: '' })).toBe('');
    });
  });
});

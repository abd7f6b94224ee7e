import { DynamicModule, INestMicroservice, NestApplicationOptions, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ContextTcpServer } from './context-tcp.server';

export interface UserContextMicroserviceOptions
  extends Pick<NestApplicationOptions, 'logger' | 'bufferLogs' | 'abortOnError'> {
  host: string;
  port: number;
  /**
   * Largest packet, in characters, buffered before its envelope can be
   * checked. Default 1 MiB; Nest's own default is 128 Mi characters, which
   * lets a peer with no envelope hold that much memory per connection.
   */
  maxBufferSize?: number;
}

const DEFAULT_MAX_BUFFER_SIZE = 1024 * 1024;

/**
 * Creates a Nest microservice whose transport verifies the user-context
 * envelope of every message before any guard, pipe or handler runs. The
 * root module must import `UserContextModule` with `role: 'service'`.
 *
 * @example
 * const app = await createUserContextMicroservice(AppModule, { host: '127.0.0.1', port: 3001 });
 * await app.listen();
 */
export async function createUserContextMicroservice(
  module: Type<unknown> | DynamicModule,
  options: UserContextMicroserviceOptions,
): Promise<INestMicroservice> {
  const { host, port, maxBufferSize = DEFAULT_MAX_BUFFER_SIZE, ...appOptions } = options;
  let codec: ContextEnvelopeCodec | undefined;
  const strategy = new ContextTcpServer({ host, port, maxBufferSize }, () => {
    if (!codec) {
      throw new Error('The user-context codec is not available yet.');
    }
    return codec;
  });

  const app = await NestFactory.createMicroservice(module, { ...appOptions, strategy });
  codec = app.get(ContextEnvelopeCodec);
  return app;
}

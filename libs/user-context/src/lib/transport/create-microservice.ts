import { DynamicModule, INestMicroservice, NestApplicationOptions, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ContextTcpServer } from './context-tcp.server';

export interface UserContextMicroserviceOptions
  extends Pick<NestApplicationOptions, 'logger' | 'bufferLogs' | 'abortOnError'> {
  host: string;
  port: number;
}

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
  const { host, port, ...appOptions } = options;
  let codec: ContextEnvelopeCodec | undefined;
  const strategy = new ContextTcpServer({ host, port }, () => {
    if (!codec) {
      throw new Error('The user-context codec is not available yet.');
    }
    return codec;
  });

  const app = await NestFactory.createMicroservice(module, { ...appOptions, strategy });
  codec = app.get(ContextEnvelopeCodec);
  return app;
}

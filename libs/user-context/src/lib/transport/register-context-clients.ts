import { DynamicModule } from '@nestjs/common';
import { ClientsModule } from '@nestjs/microservices';

import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ContextTcpClient } from './context-tcp.client';

/** Name and address of one service that the app calls over TCP. */
export interface ContextClientTarget {
  /** Injection token of the client, as in `ClientsModule.register`. */
  name: string | symbol;
  host: string;
  port: number;
}

/**
 * Registers a `ContextTcpClient` per target with `ClientsModule`, each
 * signing the caller's context with the app's `ContextEnvelopeCodec`.
 * Needs `UserContextModule` imported globally, as it is by default.
 *
 * @example
 * imports: [registerContextClients([{ name: ORDERS_CLIENT, host: '127.0.0.1', port: 3001 }])]
 */
export function registerContextClients(targets: ContextClientTarget[]): DynamicModule {
  return ClientsModule.registerAsync(
    targets.map(({ name, host, port }) => ({
      name,
      inject: [ContextEnvelopeCodec],
      useFactory: (codec: ContextEnvelopeCodec) => ({
        customClass: ContextTcpClient,
        options: { host, port, codec },
      }),
    })),
  );
}

/** The transports a generated service can default to; the same list as `CONTEXT_TRANSPORTS` of @platform/user-context. */
export type ServiceTransport = 'tcp' | 'nats' | 'rmq' | 'redis' | 'grpc';

/** Options of the `service` generator, as schema.json describes them. */
export interface ServiceGeneratorSchema {
  name: string;
  transport?: ServiceTransport;
  port?: number;
  directory?: string;
  tags?: string;
  skipFormat?: boolean;
}

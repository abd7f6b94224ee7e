import {
  Body,
  Controller,
  Get,
  Inject,
  INestMicroservice,
  Module,
  NotFoundException,
  Param,
  Post,
} from '@nestjs/common';
import {
  ClientProxy,
  ClientsModule,
  EventPattern,
  MessagePattern,
  Payload,
} from '@nestjs/microservices';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import * as jsonwebtoken from 'jsonwebtoken';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { from, lastValueFrom, map, mergeMap, switchMap } from 'rxjs';

import { CurrentUser } from '../decorators/current-user.decorator';
import { Public } from '../decorators/public.decorator';
import { RequirePermission } from '../decorators/require-permission.decorator';
import { ContextEnvelopeCodec } from '../envelope/context-envelope.codec';
import { ServiceClient } from '../errors/service-client';
import { USER_CONTEXT_HEADER } from '../user-context.constants';
import { UserContext } from '../user-context.interface';
import { UserContextModule } from '../user-context.module';
import { UserContextService } from '../user-context.service';
import { ContextTcpClient } from './context-tcp.client';
import { createUserContextMicroservice } from './create-microservice';

const JWT_SECRET = 'tcp-spec-jwt-secret-0123456789abcdefghij';
const ENVELOPE_SECRET = 'tcp-spec-envelope-secret-0123456789abcd';
const OTHER_ENVELOPE_SECRET = 'tcp-spec-other-envelope-secret-012345678';
const ORDERS_CLIENT = 'ORDERS_CLIENT';
const SELF_CLIENT = 'SELF_CLIENT';
const SERVICE_TIMEOUT_MS = 3000;

/** Set before either app is created; the client factories read it at creation time. */
let servicePort = 0;

const handlerCalls = { whoami: 0, remove: 0 };
const receivedEvents: Array<{
  pattern: string;
  payload: any;
  userId: string;
  requestId?: string;
}> = [];

function randomDelay(): Promise<void> {
  return sleep(Math.floor(Math.random() * 15));
}

function envelopeOptions(secret = ENVELOPE_SECRET) {
  return { keys: [{ id: 'k1', secret }] };
}

// ---------------------------------------------------------------------------
// The microservice ("orders")

@Controller()
class OrdersHandlers {
  constructor(
    private readonly userContext: UserContextService,
    @Inject(SELF_CLIENT) private readonly self: ClientProxy,
  ) {}

  @MessagePattern('whoami')
  async whoami(@Payload() payload: unknown, @CurrentUser() user: UserContext) {
    handlerCalls.whoami++;
    await randomDelay();
    return {
      payload,
      user,
      serviceUserId: this.userContext.get().userId,
      requestId: this.userContext.requestId(),
    };
  }

  @MessagePattern({ cmd: 'whoami', version: 2 })
  whoamiObject(@CurrentUser('userId') userId: string) {
    return { userId, pattern: 'object' };
  }

  /** Calls `whoami` on this same service: a second hop signed in this handler's scope. */
  @MessagePattern('whoami.transitive')
  transitive(
    @Payload() payload: unknown,
    @CurrentUser('userId') userId: string,
  ) {
    return from(randomDelay()).pipe(
      switchMap(() => this.self.send('whoami', { hop: 2, payload })),
      map((inner) => ({
        outerUserId: userId,
        outerRequestId: this.userContext.requestId(),
        afterHopUserId: this.userContext.get().userId,
        inner,
      })),
    );
  }

  @RequirePermission('orders:delete')
  @MessagePattern('orders.delete')
  remove(@Payload() orderId: string) {
    handlerCalls.remove++;
    return { deleted: orderId };
  }

  @MessagePattern('orders.missing')
  missing() {
    throw new NotFoundException('Order 42 was not found.');
  }

  @MessagePattern('orders.crash')
  crash() {
    throw new Error('database password is hunter2');
  }

  @EventPattern('orders.touched')
  touched(@Payload() payload: unknown, @CurrentUser('userId') userId: string) {
    receivedEvents.push({
      pattern: 'orders.touched',
      payload,
      userId,
      requestId: this.userContext.requestId(),
    });
  }

  @RequirePermission('orders:audit')
  @EventPattern('orders.audited')
  audited(@Payload() payload: unknown, @CurrentUser('userId') userId: string) {
    receivedEvents.push({ pattern: 'orders.audited', payload, userId });
  }
}

@Module({
  imports: [
    UserContextModule.forRoot({
      role: 'service',
      serviceName: 'orders-spec',
      envelope: envelopeOptions(),
      auditSink: () => undefined,
    }),
    ClientsModule.registerAsync([
      {
        name: SELF_CLIENT,
        inject: [ContextEnvelopeCodec],
        useFactory: (codec: ContextEnvelopeCodec) => ({
          customClass: ContextTcpClient,
          options: {
            host: '127.0.0.1',
            port: servicePort,
            codec,
            audience: 'orders-spec',
          },
        }),
      },
    ]),
  ],
  controllers: [OrdersHandlers],
})
class OrdersServiceModule {}

// ---------------------------------------------------------------------------
// The HTTP gateway

@Controller('gateway')
class GatewayController {
  constructor(
    private readonly orders: ServiceClient,
    @Inject(ORDERS_CLIENT) private readonly client: ClientProxy,
  ) {}

  @Post('send/:pattern')
  send(@Param('pattern') pattern: string, @Body() body: { data: unknown }) {
    return this.orders.send(pattern, body.data);
  }

  @Get('object-pattern')
  objectPattern() {
    return this.client.send({ version: 2, cmd: 'whoami' }, {});
  }

  @Get('chain-merge')
  chainMerge() {
    return this.client
      .send('whoami', { step: 1 })
      .pipe(
        mergeMap((first) =>
          this.client
            .send('whoami', { step: 2 })
            .pipe(map((second) => ({ first, second }))),
        ),
      );
  }

  @Get('chain-switch')
  chainSwitch() {
    return this.client.send('whoami', { step: 1 }).pipe(
      switchMap((first) => from(randomDelay()).pipe(map(() => first))),
      switchMap((first) =>
        this.client
          .send('whoami', { step: 2 })
          .pipe(map((second) => ({ first, second }))),
      ),
    );
  }

  @Public()
  @Get('public-call')
  publicCall() {
    return this.orders.send('whoami', {});
  }

  @Post('emit/:pattern')
  async emit(
    @Param('pattern') pattern: string,
    @Body() body: { data: unknown },
  ) {
    await lastValueFrom(this.client.emit(pattern, body.data), {
      defaultValue: undefined,
    });
    return { emitted: true };
  }
}

@Module({
  imports: [
    UserContextModule.forRoot({
      role: 'gateway',
      serviceName: 'gateway-spec',
      jwt: { secret: JWT_SECRET },
      envelope: envelopeOptions(),
      auditSink: () => undefined,
    }),
    ClientsModule.registerAsync([
      {
        name: ORDERS_CLIENT,
        inject: [ContextEnvelopeCodec],
        useFactory: (codec: ContextEnvelopeCodec) => ({
          customClass: ContextTcpClient,
          options: {
            host: '127.0.0.1',
            port: servicePort,
            codec,
            audience: 'orders-spec',
          },
        }),
      },
    ]),
  ],
  controllers: [GatewayController],
  providers: [
    {
      provide: ServiceClient,
      inject: [ORDERS_CLIENT],
      useFactory: (client: ClientProxy) =>
        new ServiceClient(client, 'orders', SERVICE_TIMEOUT_MS),
    },
  ],
})
class GatewayModule {}

// ---------------------------------------------------------------------------
// Helpers

async function findFreePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(
  condition: () => boolean,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) {
      throw new Error(`Condition not met within ${timeoutMs} ms.`);
    }
    await sleep(5);
  }
}

function tokenFor(userId: string, permissions: string[] = []): string {
  return jsonwebtoken.sign({ sub: userId, permissions }, JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 300,
  });
}

function userFor(userId: string, permissions: string[] = []): UserContext {
  return { userId, roles: [], permissions };
}

type Packet = Record<string, unknown>;

/**
 * A plain TCP peer that speaks Nest's framing, `<length>#<json>`, where the
 * length counts the characters of the JSON text.
 */
class RawTcpClient {
  private buffer = '';
  private readonly waiters = new Map<string, (message: Packet) => void>();
  private nextId = 0;

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
  }

  static connect(port: number): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () =>
        resolve(new RawTcpClient(socket)),
      );
      socket.once('error', reject);
    });
  }

  write(packet: Packet): void {
    const json = JSON.stringify(packet);
    this.socket.write(`${json.length}#${json}`);
  }

  /** Sends a request packet and resolves with the first reply carrying its id. */
  request(packet: Packet, timeoutMs = 2000): Promise<Packet> {
    const id = `raw-${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new Error(`No reply to ${id} within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.waiters.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.write({ ...packet, id });
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const delimiter = this.buffer.indexOf('#');
      if (delimiter === -1) {
        return;
      }
      const length = Number(this.buffer.slice(0, delimiter));
      const end = delimiter + 1 + length;
      if (this.buffer.length < end) {
        return;
      }
      const message = JSON.parse(
        this.buffer.slice(delimiter + 1, end),
      ) as Packet;
      this.buffer = this.buffer.slice(end);
      const waiter = this.waiters.get(message.id as string);
      this.waiters.delete(message.id as string);
      waiter?.(message);
    }
  }
}

// ---------------------------------------------------------------------------

describe('user context over TCP', () => {
  const codec = new ContextEnvelopeCodec(envelopeOptions());
  const rawClients: RawTcpClient[] = [];
  let service: INestMicroservice;
  let serviceClosed = false;
  let gateway: NestFastifyApplication;
  let baseUrl: string;

  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; requestId?: string; body?: unknown } = {},
  ): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) {
      headers.authorization = `Bearer ${options.token}`;
    }
    if (options.requestId !== undefined) {
      headers['x-request-id'] = options.requestId;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body:
        options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return { status: response.status, body: await response.json() };
  }

  async function connectRaw(): Promise<RawTcpClient> {
    const client = await RawTcpClient.connect(servicePort);
    rawClients.push(client);
    return client;
  }

  beforeAll(async () => {
    servicePort = await findFreePort();
    service = await createUserContextMicroservice(OrdersServiceModule, {
      host: '127.0.0.1',
      port: servicePort,
      logger: false,
    });
    await service.listen();

    const moduleRef = await Test.createTestingModule({
      imports: [GatewayModule],
    }).compile();
    gateway = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter(),
      {
        logger: false,
      },
    );
    await gateway.listen(0, '127.0.0.1');
    const { port } = gateway.getHttpServer().address() as net.AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const client of rawClients) {
      client.destroy();
    }
    await gateway?.close();
    if (!serviceClosed) {
      await service?.close();
    }
  });

  describe('propagation', () => {
    it('passes the caller to the handler', async () => {
      const token = tokenFor('alice', ['orders:read']);
      const { status, body } = await call('POST', '/gateway/send/whoami', {
        token,
        requestId: 'tcp-request-1',
        body: { data: { orderId: 7 } },
      });

      expect(status).toBe(201);
      expect(body.user).toEqual({
        userId: 'alice',
        roles: [],
        permissions: ['orders:read'],
      });
      expect(body.serviceUserId).toBe('alice');
      expect(body.requestId).toBe('tcp-request-1');
    });

    it('routes an object pattern', async () => {
      const { status, body } = await call('GET', '/gateway/object-pattern', {
        token: tokenFor('alice', ['orders:read']),
      });

      expect(status).toBe(200);
      expect(body).toEqual({ userId: 'alice', pattern: 'object' });
    });

    it.each([
      [
        'object',
        { orderId: 7, lines: [{ sku: 'a', quantity: 2 }], note: null },
      ],
      ['nested envelope-named field', { [USER_CONTEXT_HEADER]: 'client-data' }],
      ['empty object', {}],
      ['array', [1, 'two', { three: 3 }]],
      ['empty array', []],
      ['string', 'hello'],
      ['empty string', ''],
      ['number', 42],
      ['zero', 0],
      ['boolean', false],
      ['null', null],
    ])('delivers %s payload unchanged', async (_name, data) => {
      const { body } = await call('POST', '/gateway/send/whoami', {
        token: tokenFor('alice'),
        body: { data },
      });

      expect(body.payload).toStrictEqual(data);
    });

    it('chains calls with mergeMap', async () => {
      const { body } = await call('GET', '/gateway/chain-merge', {
        token: tokenFor('alice'),
        requestId: 'chain-1',
      });

      expect(body.second.user.userId).toBe('alice');
      expect(body.second.requestId).toBe('chain-1');
    });

    it('propagates through a service hop', async () => {
      const { body } = await call('POST', '/gateway/send/whoami.transitive', {
        token: tokenFor('alice'),
        requestId: 'hop-1',
        body: { data: { hop: 1 } },
      });

      expect(body.inner.user.userId).toBe('alice');
      expect(body.inner.requestId).toBe('hop-1');
      expect(body.inner.payload).toEqual({ hop: 2, payload: { hop: 1 } });
    });

    it('delivers an emitted event', async () => {
      await call('POST', '/gateway/emit/orders.touched', {
        token: tokenFor('alice'),
        requestId: 'event-1',
        body: { data: { tag: 'gateway-event' } },
      });
      await waitFor(() =>
        receivedEvents.some((event) => event.payload?.tag === 'gateway-event'),
      );

      const event = receivedEvents.find(
        (candidate) => candidate.payload?.tag === 'gateway-event',
      );
      expect(event).toEqual({
        pattern: 'orders.touched',
        payload: { tag: 'gateway-event' },
        userId: 'alice',
        requestId: 'event-1',
      });
    });
  });

  describe('concurrency', () => {
    it('keeps 200 requests from 20 users apart', async () => {
      const routes = [
        '/gateway/chain-merge',
        '/gateway/chain-switch',
        '/gateway/transitive',
      ];
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const userId = `user-${i % 20}`;
          const requestId = `parallel-${i}`;
          const route = routes[i % routes.length];
          const { status, body } =
            route === '/gateway/transitive'
              ? await call('POST', '/gateway/send/whoami.transitive', {
                  token: tokenFor(userId),
                  requestId,
                  body: { data: { i } },
                })
              : await call('GET', route, {
                  token: tokenFor(userId),
                  requestId,
                });
          return { route, userId, requestId, status, body };
        }),
      );

      const seen = results.map(({ route, status, body }) =>
        route === '/gateway/transitive'
          ? {
              status,
              userIds: [
                body.outerUserId,
                body.afterHopUserId,
                body.inner?.user?.userId,
              ],
              requestIds: [body.outerRequestId, body.inner?.requestId],
            }
          : {
              status,
              userIds: [
                body.first?.user?.userId,
                body.first?.serviceUserId,
                body.second?.user?.userId,
                body.second?.serviceUserId,
              ],
              requestIds: [body.first?.requestId, body.second?.requestId],
            },
      );
      const mismatches = results
        .map((result, i) => ({ ...result, ...seen[i] }))
        .filter(
          ({ status, userId, requestId, userIds, requestIds }) =>
            status >= 300 ||
            userIds.some((seenUserId) => seenUserId !== userId) ||
            requestIds.some((seenRequestId) => seenRequestId !== requestId),
        )
        .map(({ route, userId, requestId, status, userIds, requestIds }) => ({
          route,
          userId,
          requestId,
          status,
          userIds,
          requestIds,
        }));
      expect(mismatches).toEqual([]);
    });
  });

  describe('errors', () => {
    it('returns 403 from the service guard', async () => {
      const { status, body } = await call(
        'POST',
        '/gateway/send/orders.delete',
        {
          token: tokenFor('alice', ['orders:read']),
          body: { data: 'order-1' },
        },
      );

      expect(status).toBe(403);
      expect(body).toEqual({
        statusCode: 403,
        message: 'Missing permission: orders:delete.',
        error: 'Forbidden',
      });
    });

    it('skips the handler on 403', async () => {
      const before = handlerCalls.remove;

      await call('POST', '/gateway/send/orders.delete', {
        token: tokenFor('alice'),
        body: { data: 'order-1' },
      });

      expect(handlerCalls.remove).toBe(before);
    });

    it('runs the handler with the permission', async () => {
      const { status, body } = await call(
        'POST',
        '/gateway/send/orders.delete',
        {
          token: tokenFor('alice', ['orders:delete']),
          body: { data: 'order-1' },
        },
      );

      expect(status).toBe(201);
      expect(body).toEqual({ deleted: 'order-1' });
    });

    it('returns 404 from the handler', async () => {
      const { status, body } = await call(
        'POST',
        '/gateway/send/orders.missing',
        {
          token: tokenFor('alice'),
          body: { data: {} },
        },
      );

      expect(status).toBe(404);
      expect(body).toEqual({
        statusCode: 404,
        message: 'Order 42 was not found.',
        error: 'Not Found',
      });
    });

    it('hides internal error details', async () => {
      const { status, body } = await call(
        'POST',
        '/gateway/send/orders.crash',
        {
          token: tokenFor('alice'),
          body: { data: {} },
        },
      );

      expect(status).toBe(500);
      expect(JSON.stringify(body)).not.toContain('hunter2');
    });

    it('returns 500 for a call without user', async () => {
      const before = handlerCalls.whoami;
      const { status, body } = await call('GET', '/gateway/public-call');

      expect(status).toBe(500);
      expect(body).toEqual({
        statusCode: 500,
        message: 'Internal Server Error',
      });
      expect(handlerCalls.whoami).toBe(before);
    });

    it('requires a token at the gateway', async () => {
      const before = handlerCalls.whoami;
      const { status } = await call('POST', '/gateway/send/whoami', {
        body: { data: {} },
      });

      expect(status).toBe(401);
      expect(handlerCalls.whoami).toBe(before);
    });
  });

  describe('raw TCP peers', () => {
    const alice = userFor('alice', ['orders:read']);

    it('accepts a valid envelope', async () => {
      const raw = await connectRaw();
      const reply = await raw.request({
        pattern: 'whoami',
        data: { raw: true },
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'raw-request-1',
          Date.now(),
          'orders-spec',
        ),
      });

      expect(reply.err).toBeUndefined();
      expect(reply.response).toEqual({
        payload: { raw: true },
        user: alice,
        serviceUserId: 'alice',
        requestId: 'raw-request-1',
      });
    });

    const invalidEnvelopes: Array<[string, () => string | undefined, string]> =
      [
        ['no envelope', () => undefined, 'User context envelope is missing.'],
        [
          'a tampered envelope',
          () => {
            const [version, keyId, , signature] = codec
              .sign(alice, 'r', Date.now(), 'orders-spec')
              .split('.');
            const forged = Buffer.from(
              JSON.stringify({
                sub: 'mallory',
                roles: [],
                permissions: ['orders:delete'],
                rid: 'r',
                iat: Math.floor(Date.now() / 1000),
                exp: Math.floor(Date.now() / 1000) + 60,
              }),
            ).toString('base64url');
            return [version, keyId, forged, signature].join('.');
          },
          'User context envelope signature is invalid.',
        ],
        [
          'an expired envelope',
          () => codec.sign(alice, 'r', Date.now() - 10 * 60_000, 'orders-spec'),
          'User context envelope has expired.',
        ],
        [
          'another secret',
          () =>
            new ContextEnvelopeCodec(
              envelopeOptions(OTHER_ENVELOPE_SECRET),
            ).sign(alice, 'r'),
          'User context envelope signature is invalid.',
        ],
        [
          'an unknown key id',
          () => {
            const stranger = new ContextEnvelopeCodec({
              keys: [{ id: 'k9', secret: ENVELOPE_SECRET }],
            });
            return stranger.sign(alice, 'r');
          },
          'User context envelope names an unknown key id.',
        ],
        [
          'a non-string envelope',
          () => 42 as unknown as string,
          'User context envelope must be a string.',
        ],
      ];

    describe.each(invalidEnvelopes)(
      'with %s',
      (_name, buildEnvelope, message) => {
        let reply: Packet;
        let callsBefore: number;

        beforeAll(async () => {
          const raw = await connectRaw();
          const envelope = buildEnvelope();
          callsBefore = handlerCalls.whoami;
          reply = await raw.request({
            pattern: 'whoami',
            data: {},
            ...(envelope === undefined
              ? {}
              : { [USER_CONTEXT_HEADER]: envelope }),
          });
        });

        it('replies with 401', () => {
          expect(reply.err).toEqual({
            statusCode: 401,
            message,
            error: 'Unauthorized',
          });
        });

        it('skips the handler', () => {
          expect(handlerCalls.whoami).toBe(callsBefore);
        });
      },
    );

    it('opens a fresh scope per packet', async () => {
      const raw = await connectRaw();
      const first = await raw.request({
        pattern: 'whoami',
        data: {},
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'first',
          Date.now(),
          'orders-spec',
        ),
      });
      const second = await raw.request({ pattern: 'whoami', data: {} });

      expect((first.response as any).user.userId).toBe('alice');
      expect((second.err as any).statusCode).toBe(401);
    });

    it('keeps users apart on one socket', async () => {
      const raw = await connectRaw();
      const users = Array.from({ length: 20 }, (_, i) =>
        userFor(`socket-user-${i}`),
      );
      const replies = await Promise.all(
        users.map((user) =>
          raw.request({
            pattern: 'whoami',
            data: { expected: user.userId },
            [USER_CONTEXT_HEADER]: codec.sign(
              user,
              `rid-${user.userId}`,
              Date.now(),
              'orders-spec',
            ),
          }),
        ),
      );

      const mismatches = replies
        .map((reply) => reply.response as any)
        .filter(
          (response) =>
            response.user.userId !== response.payload.expected ||
            response.requestId !== `rid-${response.payload.expected}`,
        );
      expect(mismatches).toEqual([]);
    });

    it('drops events without a valid envelope', async () => {
      const raw = await connectRaw();
      const eventsBefore = receivedEvents.length;

      raw.write({
        pattern: 'orders.touched',
        data: { tag: 'raw-no-envelope' },
      });
      raw.write({
        pattern: 'orders.touched',
        data: { tag: 'raw-expired' },
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'r',
          Date.now() - 10 * 60_000,
          'orders-spec',
        ),
      });
      raw.write({
        pattern: 'orders.touched',
        data: { tag: 'raw-valid' },
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'raw-event',
          Date.now(),
          'orders-spec',
        ),
      });
      await waitFor(() =>
        receivedEvents.some((event) => event.payload?.tag === 'raw-valid'),
      );

      expect(
        receivedEvents.slice(eventsBefore).map((event) => event.payload.tag),
      ).toEqual(['raw-valid']);
    });

    it('passes the envelope user to events', async () => {
      const raw = await connectRaw();

      raw.write({
        pattern: 'orders.touched',
        data: { tag: 'raw-user' },
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'raw-event-user',
          Date.now(),
          'orders-spec',
        ),
      });
      await waitFor(() =>
        receivedEvents.some((event) => event.payload?.tag === 'raw-user'),
      );

      const event = receivedEvents.find(
        (candidate) => candidate.payload?.tag === 'raw-user',
      );
      expect(event?.userId).toBe('alice');
      expect(event?.requestId).toBe('raw-event-user');
    });

    it('enforces permissions on events', async () => {
      const raw = await connectRaw();
      const eventsBefore = receivedEvents.length;

      raw.write({
        pattern: 'orders.audited',
        data: { tag: 'audit-denied' },
        [USER_CONTEXT_HEADER]: codec.sign(
          alice,
          'r',
          Date.now(),
          'orders-spec',
        ),
      });
      raw.write({
        pattern: 'orders.audited',
        data: { tag: 'audit-allowed' },
        [USER_CONTEXT_HEADER]: codec.sign(
          userFor('auditor', ['orders:audit']),
          'r',
          Date.now(),
          'orders-spec',
        ),
      });
      await waitFor(() =>
        receivedEvents.some((event) => event.payload?.tag === 'audit-allowed'),
      );

      expect(
        receivedEvents.slice(eventsBefore).map((event) => event.payload.tag),
      ).toEqual(['audit-allowed']);
    });
  });

  describe('service shutdown', () => {
    it('returns 503 quickly', async () => {
      await service.close();
      serviceClosed = true;

      const started = Date.now();
      const { status, body } = await call('POST', '/gateway/send/whoami', {
        token: tokenFor('alice'),
        body: { data: {} },
      });
      const elapsedMs = Date.now() - started;

      expect(status).toBe(503);
      expect(body).toEqual({
        statusCode: 503,
        message: 'The orders service is unreachable.',
        error: 'Service Unavailable',
      });
      expect(elapsedMs).toBeLessThan(1000);
    });

    it('returns 503 on refused connection', async () => {
      const started = Date.now();
      const { status, body } = await call('POST', '/gateway/send/whoami', {
        token: tokenFor('alice'),
        body: { data: {} },
      });
      const elapsedMs = Date.now() - started;

      expect(status).toBe(503);
      expect(body.message).toBe('The orders service is unreachable.');
      expect(elapsedMs).toBeLessThan(1000);
    });
  });
});

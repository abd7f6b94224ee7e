import {
  Body,
  Controller,
  Get,
  Headers,
  INestApplication,
  Post,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import {
  FastifyAdapter,
  NestFastifyApplication,
} from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import * as jsonwebtoken from 'jsonwebtoken';
import { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import { AuditService } from './audit/audit.service';
import { CurrentUser } from './decorators/current-user.decorator';
import { Public } from './decorators/public.decorator';
import { RequirePermission } from './decorators/require-permission.decorator';
import { UserContext } from './user-context.interface';
import { UserContextModule } from './user-context.module';
import { UserContextService } from './user-context.service';

const JWT_SECRET = 'module-spec-jwt-secret-0123456789abcdef';
const ENVELOPE_SECRET = 'module-spec-envelope-secret-0123456789ab';
const UUID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const auditLines: string[] = [];

function randomDelay(): Promise<void> {
  return sleep(Math.floor(Math.random() * 15));
}

@Controller('public')
class PublicController {
  constructor(private readonly userContext: UserContextService) {}

  @Public()
  @Get('info')
  info(@Headers() headers: Record<string, string>) {
    return {
      user: this.userContext.find() ?? null,
      requestId: this.userContext.requestId() ?? null,
      headerNames: Object.keys(headers),
    };
  }
}

@Controller('account')
class AccountController {
  constructor(
    private readonly userContext: UserContextService,
    private readonly audit: AuditService,
  ) {}

  @Get('me')
  async me(
    @CurrentUser() user: UserContext,
    @CurrentUser('userId') userId: string,
  ) {
    await randomDelay();
    return {
      user,
      userId,
      serviceUserId: this.userContext.get().userId,
      requestId: this.userContext.requestId(),
    };
  }

  @Post('echo')
  async echo(@Body() body: unknown, @CurrentUser('userId') userId: string) {
    await randomDelay();
    return { body, userId, serviceUserId: this.userContext.get().userId };
  }

  @Post('audit')
  record(@Body() body: { resourceId: string }) {
    this.audit.record({
      action: 'account.update',
      resourceId: body.resourceId,
      outcome: 'success',
    });
    return { recorded: true };
  }
}

@Controller('reports')
@RequirePermission('reports:read')
class ReportsController {
  @Get('list')
  list(@CurrentUser('userId') userId: string) {
    return { userId, reports: [] };
  }

  @RequirePermission('reports:write', 'reports:approve')
  @Post('approve')
  approve(@CurrentUser('userId') userId: string) {
    return { userId, approved: true };
  }
}

function tokenFor(
  userId: string,
  claims: Record<string, unknown> = {},
): string {
  return jsonwebtoken.sign({ sub: userId, ...claims }, JWT_SECRET, {
    algorithm: 'HS256',
    expiresIn: 300,
  });
}

describe('UserContextModule over HTTP', () => {
  let app: NestFastifyApplication;
  let baseUrl: string;

  async function call(
    path: string,
    options: {
      token?: string;
      headers?: Record<string, string>;
      method?: string;
      body?: unknown;
    } = {},
  ): Promise<{ status: number; body: any; headers: Headers }> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) {
      headers.authorization = `Bearer ${options.token}`;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${baseUrl}${path}`, {
      method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
      headers,
      body:
        options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    return {
      status: response.status,
      body: await response.json(),
      headers: response.headers,
    };
  }

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        UserContextModule.forRoot({
          role: 'gateway',
          serviceName: 'module-spec',
          jwt: { secret: JWT_SECRET },
          envelope: { keys: [{ id: 'k1', secret: ENVELOPE_SECRET }] },
          auditSink: (line) => auditLines.push(line),
        }),
      ],
      controllers: [PublicController, AccountController, ReportsController],
    }).compile();

    app = moduleRef.createNestApplication<NestFastifyApplication>(
      new FastifyAdapter(),
      {
        logger: false,
      },
    );
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  describe('authentication', () => {
    it('returns 401 without a token', async () => {
      const { status, body } = await call('/account/me');

      expect(status).toBe(401);
      expect(body).toEqual({
        statusCode: 401,
        message: 'Missing bearer token: send "Authorization: Bearer <token>".',
        error: 'Unauthorized',
      });
    });

    it('returns 401 for a Basic scheme', async () => {
      const { status, body } = await call('/account/me', {
        headers: { authorization: 'Basic YWxpY2U6c2VjcmV0' },
      });

      expect(status).toBe(401);
      expect(body).toEqual({
        statusCode: 401,
        message: 'Authorization header must have the form "Bearer <token>".',
        error: 'Unauthorized',
      });
    });

    it('returns 401 for a bare token', async () => {
      const { status } = await call('/account/me', {
        headers: { authorization: tokenFor('alice') },
      });

      expect(status).toBe(401);
    });

    it('returns 401 for an invalid token', async () => {
      const token = tokenFor('alice').slice(0, -3) + 'abc';
      const { status, body } = await call('/account/me', { token });

      expect(status).toBe(401);
      expect(body).toEqual({
        statusCode: 401,
        message: 'Invalid token: invalid signature.',
        error: 'Unauthorized',
      });
    });

    it('returns 401 for an expired token', async () => {
      const token = jsonwebtoken.sign(
        { sub: 'alice', exp: Math.floor(Date.now() / 1000) - 120 },
        JWT_SECRET,
      );
      const { status, body } = await call('/account/me', { token });

      expect(status).toBe(401);
      expect(body.message).toBe('Token has expired.');
    });

    it('returns 401 for a token without sub', async () => {
      const { status } = await call('/account/me', {
        token: jsonwebtoken.sign({ email: 'a@example.com' }, JWT_SECRET, {
          expiresIn: 60,
        }),
      });

      expect(status).toBe(401);
    });

    it('accepts a lowercase bearer scheme', async () => {
      const { status } = await call('/account/me', {
        headers: { authorization: `bearer ${tokenFor('alice')}` },
      });

      expect(status).toBe(200);
    });

    it('injects the verified user', async () => {
      const token = tokenFor('alice', {
        email: 'alice@example.com',
        roles: ['admin'],
        scope: 'a b',
      });
      const { status, body } = await call('/account/me', { token });

      expect(status).toBe(200);
      expect(body.user).toEqual({
        userId: 'alice',
        email: 'alice@example.com',
        roles: ['admin'],
        permissions: ['a', 'b'],
      });
      expect(body.userId).toBe('alice');
      expect(body.serviceUserId).toBe('alice');
    });

    it('keeps the user across body parsing', async () => {
      const { status, body } = await call('/account/echo', {
        token: tokenFor('alice'),
        body: { item: 'book', quantity: 2 },
      });

      expect(status).toBe(201);
      expect(body).toEqual({
        body: { item: 'book', quantity: 2 },
        userId: 'alice',
        serviceUserId: 'alice',
      });
    });
  });

  describe('permissions', () => {
    it('returns 403 naming the class permission', async () => {
      const { status, body } = await call('/reports/list', {
        token: tokenFor('alice'),
      });

      expect(status).toBe(403);
      expect(body).toEqual({
        statusCode: 403,
        message: 'Missing permission: reports:read.',
        error: 'Forbidden',
      });
    });

    it('returns 200 with the class permission', async () => {
      const token = tokenFor('alice', { permissions: ['reports:read'] });
      const { status, body } = await call('/reports/list', { token });

      expect(status).toBe(200);
      expect(body).toEqual({ userId: 'alice', reports: [] });
    });

    it('requires class and handler permissions', async () => {
      const { status, body } = await call('/reports/approve', {
        method: 'POST',
        token: tokenFor('alice'),
      });

      expect(status).toBe(403);
      expect(body.message).toBe(
        'Missing permission: reports:read, reports:write, reports:approve.',
      );
    });

    it('names only the missing permissions', async () => {
      const token = tokenFor('alice', {
        permissions: ['reports:read', 'reports:approve'],
      });
      const { status, body } = await call('/reports/approve', {
        method: 'POST',
        token,
      });

      expect(status).toBe(403);
      expect(body.message).toBe('Missing permission: reports:write.');
    });

    it('requires the class permission on handlers', async () => {
      const token = tokenFor('alice', {
        permissions: ['reports:write', 'reports:approve'],
      });
      const { status, body } = await call('/reports/approve', {
        method: 'POST',
        token,
      });

      expect(status).toBe(403);
      expect(body.message).toBe('Missing permission: reports:read.');
    });

    it('returns 200 with every permission', async () => {
      const token = tokenFor('alice', {
        permissions: ['reports:read', 'reports:write'],
        scope: 'reports:approve',
      });
      const { status, body } = await call('/reports/approve', {
        method: 'POST',
        token,
      });

      expect(status).toBe(201);
      expect(body).toEqual({ userId: 'alice', approved: true });
    });

    it('checks authentication before permissions', async () => {
      const { status } = await call('/reports/list');

      expect(status).toBe(401);
    });
  });

  describe('public routes', () => {
    it('serves without a token', async () => {
      const { status, body } = await call('/public/info');

      expect(status).toBe(200);
      expect(body.user).toBeNull();
    });

    it('serves with an invalid token', async () => {
      const { status } = await call('/public/info', { token: 'not-a-token' });

      expect(status).toBe(200);
    });

    it('ignores a valid token', async () => {
      const { body } = await call('/public/info', { token: tokenFor('alice') });

      expect(body.user).toBeNull();
    });

    it('drops inbound identity headers', async () => {
      const { body } = await call('/public/info', {
        headers: {
          'x-user-id': 'mallory',
          'x-user-context': 'v1.k1.forged.signature',
          'X-User-Roles': 'admin',
          'x-userid': 'kept',
        },
      });

      expect(
        body.headerNames.filter((name: string) => name.startsWith('x-user-')),
      ).toEqual([]);
      expect(body.headerNames).toContain('x-userid');
    });

    it('sets no user from identity headers', async () => {
      const { body } = await call('/public/info', {
        headers: { 'x-user-id': 'mallory' },
      });

      expect(body.user).toBeNull();
    });
  });

  describe('identity headers', () => {
    it('ignores x-user-id on authenticated routes', async () => {
      const { body } = await call('/account/me', {
        token: tokenFor('alice'),
        headers: { 'x-user-id': 'mallory' },
      });

      expect(body.userId).toBe('alice');
    });

    it('ignores x-user-context on authenticated routes', async () => {
      const { body } = await call('/account/me', {
        token: tokenFor('alice'),
        headers: { 'x-user-context': 'v1.k1.forged.signature' },
      });

      expect(body.userId).toBe('alice');
    });

    it('requires a token despite identity headers', async () => {
      const { status } = await call('/account/me', {
        headers: {
          'x-user-id': 'mallory',
          'x-user-context': 'v1.k1.forged.signature',
        },
      });

      expect(status).toBe(401);
    });
  });

  describe('request id', () => {
    it('generates a UUID when absent', async () => {
      const { headers } = await call('/public/info');

      expect(headers.get('x-request-id')).toMatch(UUID_PATTERN);
    });

    it('exposes the generated id to handlers', async () => {
      const { headers, body } = await call('/account/me', {
        token: tokenFor('alice'),
      });

      expect(body.requestId).toBe(headers.get('x-request-id'));
    });

    it('generates a new id per request', async () => {
      const first = await call('/public/info');
      const second = await call('/public/info');

      expect(first.headers.get('x-request-id')).not.toBe(
        second.headers.get('x-request-id'),
      );
    });

    it('echoes a well-formed id', async () => {
      const requestId = 'req-2025.01:abc_DEF';
      const { headers } = await call('/public/info', {
        headers: { 'x-request-id': requestId },
      });

      expect(headers.get('x-request-id')).toBe(requestId);
    });

    it('passes a well-formed id to handlers', async () => {
      const { body } = await call('/account/me', {
        token: tokenFor('alice'),
        headers: { 'x-request-id': 'trace-42' },
      });

      expect(body.requestId).toBe('trace-42');
    });

    it('echoes a 128-character id', async () => {
      const requestId = 'r'.repeat(128);
      const { headers } = await call('/public/info', {
        headers: { 'x-request-id': requestId },
      });

      expect(headers.get('x-request-id')).toBe(requestId);
    });

    it.each([
      ['spaces', 'has some spaces'],
      ['129 characters', 'r'.repeat(129)],
      ['200 characters', 'r'.repeat(200)],
      ['a slash', 'a/b'],
      ['a quote', 'a"b'],
    ])('replaces an id with %s', async (_name, requestId) => {
      const { headers, body } = await call('/public/info', {
        headers: { 'x-request-id': requestId },
      });

      expect(headers.get('x-request-id')).toMatch(UUID_PATTERN);
      expect(body.requestId).toBe(headers.get('x-request-id'));
    });

    it('sets the id on error responses', async () => {
      const { status, headers } = await call('/account/me', {
        headers: { 'x-request-id': 'err-1' },
      });

      expect(status).toBe(401);
      expect(headers.get('x-request-id')).toBe('err-1');
    });
  });

  describe('audit', () => {
    it('records the user and request id', async () => {
      auditLines.length = 0;
      const token = tokenFor('alice');

      await call('/account/audit', {
        token,
        headers: { 'x-request-id': 'audit-1' },
        body: { resourceId: 'acct-7' },
      });

      expect(auditLines).toHaveLength(1);
      expect(JSON.parse(auditLines[0])).toEqual({
        type: 'audit',
        time: expect.any(String),
        service: 'module-spec',
        action: 'account.update',
        userId: 'alice',
        requestId: 'audit-1',
        resourceId: 'acct-7',
        outcome: 'success',
      });
      expect(auditLines[0]).not.toContain(token.split('.')[2]);
    });
  });

  describe('concurrency', () => {
    it('keeps 50 parallel users apart', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const userId = `user-${i}`;
          const requestId = `concurrent-${i}`;
          const { body } = await call('/account/me', {
            token: tokenFor(userId),
            headers: { 'x-request-id': requestId },
          });
          return { expected: { userId, requestId }, actual: body };
        }),
      );

      const mismatches = results.filter(
        ({ expected, actual }) =>
          actual.userId !== expected.userId ||
          actual.user?.userId !== expected.userId ||
          actual.serviceUserId !== expected.userId ||
          actual.requestId !== expected.requestId,
      );
      expect(mismatches).toEqual([]);
    });

    it('keeps 50 parallel posts apart', async () => {
      const results = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const { body } = await call('/account/echo', {
            token: tokenFor(`poster-${i}`),
            body: { index: i },
          });
          return { index: i, body };
        }),
      );

      const mismatches = results.filter(
        ({ index, body }) =>
          body.userId !== `poster-${index}` ||
          body.serviceUserId !== `poster-${index}` ||
          body.body?.index !== index,
      );
      expect(mismatches).toEqual([]);
    });
  });
});

describe('UserContextModule on Express', () => {
  let app: INestApplication;
  let baseUrl: string;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        UserContextModule.forRoot({
          role: 'gateway',
          serviceName: 'module-spec-express',
          jwt: { secret: JWT_SECRET },
          envelope: { keys: [{ id: 'k1', secret: ENVELOPE_SECRET }] },
          auditSink: () => undefined,
        }),
      ],
      controllers: [PublicController, AccountController],
    }).compile();

    app = moduleRef.createNestApplication(new ExpressAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('returns 401 without a token', async () => {
    const response = await fetch(`${baseUrl}/account/me`);

    expect(response.status).toBe(401);
  });

  it('returns the user with a token', async () => {
    const response = await fetch(`${baseUrl}/account/me`, {
      headers: {
        authorization: `Bearer ${tokenFor('erin')}`,
        'x-request-id': 'express-1',
      },
    });
    const body = (await response.json()) as any;

    expect(response.status).toBe(200);
    expect(body.serviceUserId).toBe('erin');
    expect(body.requestId).toBe('express-1');
    expect(response.headers.get('x-request-id')).toBe('express-1');
  });

  it('drops identity headers', async () => {
    const response = await fetch(`${baseUrl}/public/info`, {
      headers: { 'x-user-id': 'mallory', 'x-user-context': 'v1.k1.e30.AAAA' },
    });
    const body = (await response.json()) as any;

    expect(body.user).toBeNull();
    expect(body.headerNames).not.toContain('x-user-id');
    expect(body.headerNames).not.toContain('x-user-context');
  });

  it('keeps concurrent users apart', async () => {
    const users = Array.from(
      { length: 30 },
      (_, index) => `express-user-${index % 6}`,
    );

    const bodies = await Promise.all(
      users.map((userId) =>
        fetch(`${baseUrl}/account/me`, {
          headers: { authorization: `Bearer ${tokenFor(userId)}` },
        }).then((response) => response.json() as Promise<any>),
      ),
    );

    bodies.forEach((body, index) => {
      expect(body.serviceUserId).toBe(users[index]);
    });
  });
});

import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  Optional,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { currentScope } from '../context/request-scope';
import { IS_PUBLIC_KEY } from '../user-context.constants';
import { JwtVerifier } from './jwt-verifier';

const BEARER_PATTERN = /^Bearer ([A-Za-z0-9\-_.~+/]+=*)$/i;

interface HttpRequestLike {
  headers: Record<string, string | string[] | undefined>;
  /** Header names and values as received: Express has them here, Fastify under `raw`. */
  rawHeaders?: string[];
  raw?: { rawHeaders?: string[]; url?: string };
  url?: string;
  originalUrl?: string;
  user?: unknown;
}

/** Names under which RFC 6750 lets clients send a token outside the header; the gateway accepts none. */
// Lenient on purpose: spaces or a tab before "=", commas between cookies,
// "access_token[]" and ";" between parameters are all read as access_token
// by some parser that may sit in front of or behind the gateway.
const OTHER_CREDENTIAL_COOKIE = /(?:^|[;,])\s*access_token\s*=/i;
const OTHER_CREDENTIAL_PARAMETER =
  /(?:^|[&;])\s*access_token\s*(?:\[[^\]]*\])?\s*=/i;

/**
 * Authenticates every request before other guards run.
 *
 * - HTTP (gateway role): verifies the bearer token, unless the route is
 *   `@Public()`, and stores the mapped user in the request's scope.
 * - RPC: the transport has already verified the envelope and opened a scope
 *   with its user. A message that reached a handler without one is rejected,
 *   so a transport that forgot to verify fails closed.
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Optional() @Inject(JwtVerifier) private readonly jwtVerifier?: JwtVerifier,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() === 'rpc') {
      return this.requireScopedUser();
    }
    if (context.getType() !== 'http') {
      return false;
    }
    if (this.isPublic(context)) {
      return true;
    }
    return this.authenticateHttp(
      context.switchToHttp().getRequest<HttpRequestLike>(),
    );
  }

  protected isPublic(context: ExecutionContext): boolean {
    return (
      this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
        context.getHandler(),
        context.getClass(),
      ]) === true
    );
  }

  protected extractToken(request: HttpRequestLike): string {
    const header = request.headers.authorization;
    if (header === undefined) {
      throw new UnauthorizedException(
        'Missing bearer token: send "Authorization: Bearer <token>".',
      );
    }
    // Node keeps only the first of repeated Authorization headers, and a proxy
    // in front may keep the last, so two of them are rejected outright.
    if (Array.isArray(header) || countAuthorizationHeaders(request) > 1) {
      throw new UnauthorizedException('Send exactly one Authorization header.');
    }
    if (hasOtherCredential(request)) {
      throw new UnauthorizedException(
        'Send exactly one credential: the Authorization header, without an access_token parameter or cookie.',
      );
    }
    const match = BEARER_PATTERN.exec(header);
    if (!match) {
      throw new UnauthorizedException(
        'Authorization header must have the form "Bearer <token>".',
      );
    }
    return match[1];
  }

  private authenticateHttp(
    request: HttpRequestLike,
  ): boolean | Promise<boolean> {
    if (!this.jwtVerifier) {
      throw new UnauthorizedException(
        'This application does not accept bearer tokens.',
      );
    }
    const scope = currentScope();
    if (!scope) {
      // Without a scope the user could not be propagated, so the request is
      // rejected rather than served with no identity attached.
      throw new Error(
        'No request scope for this HTTP request: is UserContextModule imported?',
      );
    }
    const verified = this.jwtVerifier.verify(this.extractToken(request));
    // A token served from the cache is checked without a promise.
    if (!(verified instanceof Promise)) {
      scope.user = verified;
      request.user = verified;
      return true;
    }
    return verified.then((user) => {
      scope.user = user;
      request.user = user;
      return true;
    });
  }

  private requireScopedUser(): boolean {
    if (!currentScope()?.user) {
      throw new UnauthorizedException('Message has no verified user context.');
    }
    return true;
  }
}

/**
 * Tells whether the request also carries a token as an `access_token` query
 * parameter or cookie. Two credentials could name two users, and a proxy in
 * front may pick the other one, so such a request is rejected.
 */
function hasOtherCredential(request: HttpRequestLike): boolean {
  // The raw query string, not a parsed one: parsers disagree on spellings.
  const url = request.originalUrl ?? request.raw?.url ?? request.url ?? '';
  const start = url.indexOf('?');
  if (start !== -1) {
    const query = url.slice(start + 1);
    // Decoding only when needed keeps this cheap on every request.
    const readable =
      query.includes('%') || query.includes('+') ? safelyDecoded(query) : query;
    if (OTHER_CREDENTIAL_PARAMETER.test(readable)) {
      return true;
    }
  }
  const cookie = request.headers.cookie;
  if (cookie === undefined) {
    return false;
  }
  return OTHER_CREDENTIAL_COOKIE.test(
    Array.isArray(cookie) ? cookie.join(';') : cookie,
  );
}

function safelyDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

function countAuthorizationHeaders(request: HttpRequestLike): number {
  const rawHeaders = request.raw?.rawHeaders ?? request.rawHeaders ?? [];
  let count = 0;
  for (let index = 0; index < rawHeaders.length; index += 2) {
    if (rawHeaders[index].toLowerCase() === 'authorization') {
      count += 1;
    }
  }
  return count;
}

import jwt from 'jsonwebtoken';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AppProcess, freePort } from './processes';
import { deleteRmqQueues, e2eTransport, transportEnv } from './transport';

export interface TokenClaims {
  sub?: string;
  email?: string;
  roles?: string[];
  permissions?: string[];
  scope?: string;
  [claim: string]: unknown;
}

export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * The three apps started on free ports with fresh secrets and a fresh data
 * directory, as a user would run them, plus helpers to call the gateway.
 */
export class Stack {
  readonly jwtSecret = randomBytes(32).toString('hex');
  readonly contextSecret = randomBytes(32).toString('hex');
  readonly dataDir = mkdtempSync(join(tmpdir(), 'platform-e2e-'));
  /** The transport of this run of the suite, from `E2E_TRANSPORT`. */
  readonly transport = e2eTransport();
  env: NodeJS.ProcessEnv = {};
  orders!: AppProcess;
  inventory!: AppProcess;
  gateway!: AppProcess;

  /** Starts orders, inventory and the gateway; `overrides` adds or replaces variables. */
  async start(overrides: NodeJS.ProcessEnv = {}): Promise<this> {
    const [gatewayPort, ordersPort, inventoryPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
    ]);
    this.env = {
      PATH: process.env.PATH,
      NO_COLOR: '1',
      NODE_ENV: 'test',
      DATA_DIR: this.dataDir,
      JWT_SECRET: this.jwtSecret,
      USER_CONTEXT_SECRET: this.contextSecret,
      GATEWAY_PORT: String(gatewayPort),
      ORDERS_PORT: String(ordersPort),
      INVENTORY_PORT: String(inventoryPort),
      RPC_TIMEOUT_MS: '3000',
      ...transportEnv(this.transport),
      ...overrides,
    };
    this.orders = new AppProcess('orders', this.env);
    this.inventory = new AppProcess('inventory', this.env);
    this.gateway = new AppProcess('gateway', this.env);
    await Promise.all([this.orders.start(), this.inventory.start()]);
    await this.gateway.start();
    return this;
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.gateway?.stop(),
      this.orders?.stop(),
      this.inventory?.stop(),
    ]);
    rmSync(this.dataDir, { recursive: true, force: true });
    if (this.transport === 'rmq' && this.env.BROKER_NAMESPACE) {
      const namespace = this.env.BROKER_NAMESPACE;
      await deleteRmqQueues(this.env.RABBITMQ_URL, [
        `${namespace}.orders`,
        `${namespace}.inventory`,
      ]);
    }
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.env.GATEWAY_PORT}`;
  }

  /** Signs a token the gateway accepts; `options` may override algorithm, expiry and so on. */
  token(claims: TokenClaims, options: jwt.SignOptions = {}): string {
    return jwt.sign(claims, this.jwtSecret, {
      algorithm: 'HS256',
      expiresIn: 300,
      ...options,
    });
  }

  async request<T = any>(
    method: string,
    path: string,
    options: {
      token?: string;
      body?: unknown;
      headers?: Record<string, string>;
    } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) {
      headers.authorization = `Bearer ${options.token}`;
    }
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body:
        options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the raw text is kept for the assertion message.
    }
    return {
      status: response.status,
      body: body as T,
      headers: response.headers,
    };
  }
}

/** Polls `check` until it returns a value other than `undefined`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`Condition not met within ${timeoutMs} ms.`);
    }
    await new Promise((resolveDelay) => setTimeout(resolveDelay, 50));
  }
}

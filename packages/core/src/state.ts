import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';

import type { createAuthenticator } from './auth.js';
import type { BaseConfig } from './config.js';
import type { AnyServiceDefinition } from './define-service.js';
import type { Identity, TransportKind } from './define-tool.js';
import type { HostPolicy } from './host-check.js';
import type { McpSession } from './mcp-server.js';
import type { Metrics } from './metrics.js';
import type { ToolRegistry } from './registry.js';
import type { SessionStore } from './sessions.js';

/** What the transport plugins share: built once by buildApp. */
export interface CoreState {
  service: AnyServiceDefinition;
  config: Readonly<BaseConfig>;
  deps: unknown;
  registry: ToolRegistry;
  sessions: SessionStore;
  metrics: Metrics;
  hostPolicy: HostPolicy;
  auth: ReturnType<typeof createAuthenticator>;
  logger: FastifyBaseLogger;
  startedAt: number;
  /** Set when shutdown begins: new sessions and calls are refused with 503. */
  closing: boolean;
  createServer(identity: Identity, rateKey: string, transport: TransportKind): McpSession;
  /** Room for one more session? Evicts idle sessions first when the table is full. */
  reserveSession(): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
    rateKey: string;
  }
}

export type { Logger };

import type { ServerResponse } from 'node:http';

import type { FastifyBaseLogger } from 'fastify';

import type { BaseConfig } from './config.js';
import type { AnyServiceDefinition } from './define-service.js';
import type { Identity, TransportKind } from './define-tool.js';
import type { GateState } from './http/admission.js';
import type { Authenticator } from './http/authentication.js';
import type { Forwarding } from './http/forwarding.js';
import type { HostPolicy } from './http/host-policy.js';
import type { SessionEngine } from './mcp/session-engine.js';
import type { Metrics } from './metrics.js';
import type { ToolRegistry } from './registry/registry.js';
import type { SessionStore } from './sessions/session.js';
import type { SessionAdmission } from './sessions/session-admission.js';
import type { SessionDirectory } from './sessions/session-directory.js';

/** What the HTTP adapters (fastify plugins, the fast lane) share: built once by buildApp. */
export interface CoreState extends GateState {
  service: AnyServiceDefinition;
  config: Readonly<BaseConfig>;
  deps: unknown;
  registry: ToolRegistry;
  sessions: SessionStore;
  admission: SessionAdmission;
  metrics: Metrics;
  hostPolicy: HostPolicy;
  auth: Authenticator;
  logger: FastifyBaseLogger;
  startedAt: number;
  /** Set when shutdown begins: new sessions and calls are refused with 503. */
  closing: boolean;
  /** With MCP_SESSION_STORE (and not stateless): the shared session directory and forwarding. */
  cluster?: { directory: SessionDirectory; forwarding: Forwarding };
  /** Puts the slow-consumer limits on a response that may become a stream (http/slow-consumer.ts). */
  limitStream(res: ServerResponse): void;
  /** A new session's protocol engine, bound to the identity that opens it. */
  createEngine(identity: Identity, rateKey: string, transport: TransportKind): SessionEngine;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity;
    rateKey: string;
  }
}

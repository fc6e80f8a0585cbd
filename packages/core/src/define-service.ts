import { readFileSync } from 'node:fs';

import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

import type { BaseConfig, ConfigSchema } from './config.js';
import type { AnyToolDefinition, Identity, TransportKind } from './define-tool.js';
import type { ServiceError } from './errors.js';

export interface ToolsetMetadata {
  /** What the toolset is for; the tools in it are listed from the registry, never by hand. */
  description: string;
  /** On when MCP_TOOLSETS is unset. */
  default: boolean;
}

/** A service's toolsets, declared once: `export const toolsets = { read: {...} } satisfies Toolsets;`. */
export type Toolsets = Record<string, ToolsetMetadata>;

/** A dependency check for /health: resolves when healthy, throws (with a safe message) when not. */
export type HealthCheck = () => Promise<void | Record<string, unknown>>;

/** What extendServer knows about the session it extends. */
export interface ServerExtensionContext<Config, Deps> {
  config: Readonly<Config>;
  deps: Deps;
  /** Who opened the session. */
  identity: Identity;
  transport: TransportKind;
  logger: Logger;
}

/** Where a service's version comes from: its package.json (read by the core), or a literal for fixtures. */
export type ServiceVersion = { version: string; packageJson?: never } | { packageJson: URL; version?: never };

export type ServiceDefinitionInput<Config extends BaseConfig = BaseConfig, Deps = unknown> = Omit<
  ServiceDefinition<Config, Deps>,
  'version'
> &
  ServiceVersion;

/** What a service's own HTTP routes get (ServiceDefinition.routes). */
export interface ServiceRoutesContext<Config, Deps> {
  config: Readonly<Config>;
  deps: Deps;
  logger: Logger;
}

/**
 * Route option for a service's own routes: `{ config: { access: 'public' } }` serves the route
 * without an API key (Host and Origin are still checked, and a key that is sent must be valid):
 * for a static page, or an endpoint that checks a token of its own (`request.identity` is then
 * anonymous unless a valid key came with the request).
 */
export interface RouteAccessConfig {
  /**
   * `public`: no API key needed. `cross-origin`: no key and any browser Origin (documents and
   * endpoints meant for cross-origin use, such as OAuth metadata; they must set CORS headers).
   */
  access?: 'public' | 'cross-origin';
}

export interface ServiceDefinition<Config extends BaseConfig = BaseConfig, Deps = unknown> {
  /** Short name: `sqlite`; the container is `mcp-<name>`. */
  name: string;
  /** The package version (defineService reads it from package.json). */
  version: string;
  /** One line for /health, initialize's serverInfo and the README. */
  description?: string;
  /** Shown to the model through initialize's `instructions`. */
  instructions?: string;
  config: ConfigSchema<Config>;
  toolsets: Toolsets;
  tools: readonly AnyToolDefinition[];
  /** Builds the process-wide dependencies (db, pools, clients) once, before listening. */
  createContext: (config: Readonly<Config>, logger: Logger) => Promise<Deps> | Deps;
  /** Dependency checks for /health; any that throws turns /health into a 503. */
  healthChecks?: (deps: Deps, config: Readonly<Config>) => Record<string, HealthCheck>;
  /**
   * Turns the domain's own errors into ServiceErrors (or returns undefined for "not mine"), so that
   * domain modules need no core import and tools need no try/catch. Anything left unmapped is an
   * unexpected error: logged with its cause, answered "Internal error".
   */
  mapError?: (error: unknown) => ServiceError | undefined;
  /** Releases what createContext built; called on shutdown after in-flight calls finish. */
  close?: (deps: Deps) => Promise<void> | void;
  /**
   * Adds MCP features beyond tools (resources, prompts, completions, subscriptions) to each session's
   * protocol engine: called on every new Server of /sse and /mcp, before it connects, so it declares
   * what it adds with `server.registerCapabilities({ resources: {} })` and answers with
   * `server.setRequestHandler(...)`. Tools stay with the registry: handling tools/list or tools/call
   * here throws. It runs for every session (LiteLLM opens one per call), so it only registers
   * handlers; shared state belongs in deps. /rpc serves tools only and does not see these features.
   */
  extendServer?: (server: Server, ctx: ServerExtensionContext<Config, Deps>) => void;
  /**
   * The service's own HTTP routes beside the MCP endpoints (a REST API, a page, an event stream).
   * They pass the same gate as MCP requests (shutdown, Host, Origin, API key: `request.identity`),
   * unless a route opts out of the key with `config: { access: 'public' }` (RouteAccessConfig).
   * A service that serves `GET /` replaces the core's endpoint list there. The paths of the core
   * (/sse, /messages, /mcp, /rpc, /health, /metrics, /mcp/v1/*) cannot be taken.
   */
  routes?: (app: FastifyInstance, ctx: ServiceRoutesContext<Config, Deps>) => void | Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a service of any config/deps
export type AnyServiceDefinition = ServiceDefinition<any, any>;

/** The `version` of a package.json, read once when the service is defined. */
export function readPackageVersion(packageJson: URL): string {
  const parsed = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
  if (typeof parsed.version !== 'string' || parsed.version.length === 0) {
    throw new Error(`${packageJson.pathname} has no "version"`);
  }
  return parsed.version;
}

/**
 * Declares a service. Reads its version from `packageJson` (so it is written once, in the package),
 * checks that every tool's toolset is declared and that names are unique.
 */
export function defineService<Config extends BaseConfig, Deps>(
  input: ServiceDefinitionInput<Config, Deps>,
): ServiceDefinition<Config, Deps> {
  const { packageJson, version, ...rest } = input;
  const service: ServiceDefinition<Config, Deps> = {
    ...rest,
    version: packageJson ? readPackageVersion(packageJson) : version,
  };
  if (!/^[a-z][a-z0-9-]*$/.test(service.name)) throw new Error(`Service name "${service.name}" must be kebab-case`);
  const seen = new Set<string>();
  for (const tool of service.tools) {
    if (seen.has(tool.name)) throw new Error(`Service ${service.name}: duplicate tool "${tool.name}"`);
    seen.add(tool.name);
    if (!(tool.toolset in service.toolsets)) {
      throw new Error(`Service ${service.name}: tool "${tool.name}" uses undeclared toolset "${tool.toolset}"`);
    }
  }
  return service;
}

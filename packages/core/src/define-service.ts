import type { Logger } from 'pino';

import type { BaseConfig, ConfigSchema } from './config.js';
import type { AnyToolDefinition } from './define-tool.js';

export interface ToolsetMetadata {
  description: string;
  /** On when MCP_TOOLSETS is unset. */
  default: boolean;
}

/** A dependency check for /health: resolves when healthy, throws (with a safe message) when not. */
export type HealthCheck = () => Promise<void | Record<string, unknown>>;

export interface ServiceDefinition<Config extends BaseConfig = BaseConfig, Deps = unknown> {
  /** Short name: `sqlite`; the container is `mcp-<name>`. */
  name: string;
  version: string;
  /** One line for /health, initialize's serverInfo and the README. */
  description?: string;
  /** Shown to the model through initialize's `instructions`. */
  instructions?: string;
  config: ConfigSchema<Config>;
  toolsets: Record<string, ToolsetMetadata>;
  tools: readonly AnyToolDefinition[];
  /** Builds the process-wide dependencies (db, pools, clients) once, before listening. */
  createContext: (config: Readonly<Config>, logger: Logger) => Promise<Deps> | Deps;
  /** Dependency checks for /health; any that throws turns /health into a 503. */
  healthChecks?: (deps: Deps, config: Readonly<Config>) => Record<string, HealthCheck>;
  /** Releases what createContext built; called on shutdown after in-flight calls finish. */
  close?: (deps: Deps) => Promise<void> | void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a service of any config/deps
export type AnyServiceDefinition = ServiceDefinition<any, any>;

/** Declares a service. Checks that every tool's toolset is declared and names are unique. */
export function defineService<Config extends BaseConfig, Deps>(
  service: ServiceDefinition<Config, Deps>,
): ServiceDefinition<Config, Deps> {
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

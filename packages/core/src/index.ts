export { buildApp, type BuildAppOptions } from './app.js';
export { ANONYMOUS, createAuthenticator } from './auth.js';
export {
  type BaseConfig,
  baseConfigSchema,
  type ConfigSchema,
  csv,
  envBoolean,
  envList,
  loadConfig,
} from './config.js';
export {
  type AnyServiceDefinition,
  defineService,
  type HealthCheck,
  readPackageVersion,
  type ServerExtensionContext,
  type ServiceDefinition,
  type ServiceDefinitionInput,
  type ToolsetMetadata,
  type Toolsets,
} from './define-service.js';
export {
  type AnyToolDefinition,
  type ClientSession,
  defineTool,
  type EmbeddedResourceContent,
  type Identity,
  type LogLevel,
  resolveAnnotations,
  type RichContent,
  TOOL_NAME,
  type ToolAnnotations,
  type ToolContext,
  toolDefiner,
  type ToolDefinition,
  type ToolLogger,
  type TransportKind,
  withContent,
} from './define-tool.js';
export {
  ConfigError,
  ERROR_CODES,
  type ErrorCode,
  type ExposedError,
  isExposedError,
  isServiceError,
  JSON_RPC,
  ServiceError,
  toServiceError,
} from './errors.js';
export { createHostPolicy, hostnameOf } from './host-check.js';
export { createLogger, loggerOptions } from './logger.js';
export { createMetrics, type Metrics } from './metrics.js';
export { createRateLimiter, type RateLimiter } from './rate-limit.js';
export { RpcError, selectTools, type ToolListEntry, ToolRegistry, type ToolResult } from './registry.js';
export { runService } from './run-service.js';
export { MemorySessionStore, type Session, type SessionStore } from './sessions.js';
export { createTimeSlice, type TimeSlice } from './time-slice.js';

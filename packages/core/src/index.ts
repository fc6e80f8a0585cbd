export { buildApp, type BuildAppOptions } from './app.js';
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
  type RouteAccessConfig,
  type ServerExtensionContext,
  type ServiceDefinition,
  type ServiceDefinitionInput,
  type ServiceRoutesContext,
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
  READ_ONLY_ANNOTATIONS,
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
  ServiceError,
  toServiceError,
} from './errors.js';
export { keepStreamAlive, SSE_HEADERS } from './http/sse-writer.js';
export { createLogger } from './logger.js';
export { ToolRegistry } from './registry/registry.js';
export { selectTools } from './registry/select-tools.js';
export { type ToolListEntry } from './registry/tool-catalog.js';
export { type ToolResult } from './registry/tool-result.js';
export { runService } from './run-service.js';
export { MemorySessionStore, type Session, type SessionStore } from './sessions/session.js';
export { createTimeSlice, type TimeSlice } from './time-slice.js';
export { startTracing, stopTracing, tracingRequested } from './tracing/start-tracing.js';

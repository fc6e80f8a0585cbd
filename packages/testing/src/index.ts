export { type Browser, CHROMIUM, launchBrowser, type Page } from './browser.js';
export { type ClientTransportKind, connectClient, type ConnectOptions } from './connect-client.js';
export { parseEnvFile, variablesWithoutComment } from './env-file.js';
export { freePort } from './free-port.js';
export { DEFAULT_FUZZ_SEED, type FuzzSettings, fuzzSettings, replayHint, seedFor } from './fuzz/fuzz-settings.js';
export { HOSTILE_STRINGS, LONG, PATH_TRAVERSAL, PRIVATE_URLS, SQL_FRAGMENTS, UNICODE } from './fuzz/hostile.js';
export {
  type ArgumentHints,
  invalidValue,
  type JsonSchema,
  toolArguments,
  validValue,
} from './fuzz/schema-arbitrary.js';
export { fuzzService, type ServiceFuzzOptions, type ServiceFuzzResult } from './fuzz/service-fuzz.js';
export { errorsWithCause, type HttpExchange, type LogLine, logLines, recordingFetch } from './fuzz/service-logs.js';
export {
  type CallOutcome,
  type FuzzCall,
  fuzzTools,
  isReadOnlyTool,
  type ListedTool,
  type ToolFuzzReport,
} from './fuzz/tool-fuzz.js';
export { treeDigest } from './fuzz/tree-digest.js';
export { httpRequest, INITIALIZE_BODY, MCP_POST_HEADERS, type RawResponse } from './http-request.js';
export { isAlive } from './is-alive.js';
export { MODULE_PROBE, type ModuleProbe, moduleProbe, modulesLoaded } from './module-probe.js';
export { connectWithOAuth, MemoryOAuthProvider, PageAgent } from './oauth-client.js';
export {
  okToolSpanAttributes,
  onlySpan,
  type OtlpReceiver,
  type ReceivedSpan,
  rpcTraceSpans,
  SPAN_KIND,
  startOtlpReceiver,
  toolAttributesWithoutDuration,
} from './otlp-receiver.js';
export { probeResponsiveness, type ResponsivenessProbe, type ResponsivenessReport } from './responsiveness.js';
export { rpc, type RpcOptions, type RpcResponse } from './rpc.js';
export { builtEntry, type ServiceProcess, type ServiceProcessOptions, startServiceProcess } from './service-process.js';
export { openSseStream, parseSseEvents, type SseEvent, type SseStream } from './sse-stream.js';
export { type StartedService, type StartOptions, startService } from './start-service.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { selfSignedCertificate } from './tls.js';
export { callTool, callToolOk, callToolRefused, rpcCallTool, type ToolCallResult } from './tool-calls.js';
export { listedTools, toolsListOf } from './tools-list.js';
export { startTracedServiceProcess, type TracedServiceProcess } from './traced-service-process.js';
export { waitUntil } from './wait-until.js';

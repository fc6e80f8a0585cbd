export { type ClientTransportKind, connectClient, type ConnectOptions } from './connect-client.js';
export { parseEnvFile, variablesWithoutComment } from './env-file.js';
export { httpRequest, INITIALIZE_BODY, MCP_POST_HEADERS, type RawResponse } from './http-request.js';
export { probeResponsiveness, type ResponsivenessProbe, type ResponsivenessReport } from './responsiveness.js';
export { rpc, type RpcOptions, type RpcResponse } from './rpc.js';
export { type ServiceProcess, type ServiceProcessOptions, startServiceProcess } from './service-process.js';
export { openSseStream, type SseStream } from './sse-stream.js';
export { type StartedService, type StartOptions, startService } from './start-service.js';

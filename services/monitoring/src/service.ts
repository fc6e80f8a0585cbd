import { defineService } from '@mcp-sse/core';

import { type Config, configSchema } from './config.js';
import { Engine, parseEngineAddress } from './engine.js';
import { resolveScope } from './host/host-metrics.js';
import { LokiClient, resolveLokiAuth } from './loki.js';
import { type Deps, toolsets } from './tools/define.js';
import { tools } from './tools/index.js';

export const service = defineService<Config, Deps>({
  name: 'monitoring',
  packageJson: new URL('../package.json', import.meta.url),
  description: 'Docker containers, logs (engine or Loki) and host metrics, read-only by default',
  instructions:
    'To explain a container problem: list_containers (all=true shows stopped ones), inspect_container (exit code, ' +
    'OOM kill, restarts, health), docker_events (die/restart/oom over a window), get_container_logs (tail, since/until, ' +
    'grep), container_stats (CPU and memory). search_logs searches many containers at once (LogQL when Loki is ' +
    'configured). get_system_metrics and list_processes show the host. Times accept RFC 3339 or ages such as 15m, 2h, 1d.',
  config: configSchema,
  toolsets,
  tools,
  createContext: (config, logger) => {
    const engine = new Engine({
      address: parseEngineAddress(config.DOCKER_HOST, config.DOCKER_SOCKET),
      timeoutMs: config.DOCKER_TIMEOUT_MS,
      allowRestart: config.MONITORING_ALLOW_RESTART,
    });
    const loki =
      config.LOKI_URL === undefined
        ? undefined
        : new LokiClient({
            url: config.LOKI_URL,
            tenant: config.LOKI_TENANT,
            auth: resolveLokiAuth(config),
            timeoutMs: config.LOKI_TIMEOUT_MS,
            maxResponseBytes: config.LOKI_MAX_RESPONSE_BYTES,
          });
    const host = { hostProc: config.HOST_PROC, hostSys: config.HOST_SYS, hostRoot: config.HOST_ROOT };
    const scope = resolveScope(host);
    logger.info(
      {
        docker: engine.description,
        allowRestart: config.MONITORING_ALLOW_RESTART,
        loki: loki?.url ?? null,
        lokiAuth: loki === undefined ? null : (resolveLokiAuth(config)?.kind ?? 'none'),
        hostView: scope.view,
        proc: scope.proc,
      },
      'monitoring ready',
    );
    if (scope.note !== undefined) logger.warn(scope.note);
    return { engine, loki, host };
  },
  healthChecks: (deps) => ({
    docker: async () => {
      await deps.engine.ping(AbortSignal.timeout(5000));
      return { endpoint: deps.engine.description };
    },
    ...(deps.loki !== undefined && {
      loki: async () => {
        await deps.loki?.ready(AbortSignal.timeout(5000));
        return { url: deps.loki?.url };
      },
    }),
  }),
});

import { z } from 'zod';

import { inspectContainer as inspect } from '../docker.js';
import { defineMonitoringTool } from './define.js';
import { containerRefSchema, labelsSchema, readAnnotations } from './schemas.js';

const nullableString = z.string().nullable();

export const inspectContainer = defineMonitoringTool({
  name: 'inspect_container',
  title: 'Inspect a container',
  toolset: 'docker',
  description:
    'Shows what explains a container: state (exit code, OOM kill, error, start and finish times, health checks), ' +
    'restart count and policy, command, environment and labels, limits, mounts, networks and ports. Values that ' +
    'look secret (passwords, tokens, keys, credentials in URLs and connection strings, --password= flags) are masked as ***.',
  input: z.object({ container: containerRefSchema }),
  output: z.object({
    id: z.string(),
    name: z.string(),
    image: nullableString,
    image_id: nullableString,
    created: nullableString,
    state: z.object({
      status: nullableString,
      running: z.boolean(),
      paused: z.boolean(),
      restarting: z.boolean(),
      oom_killed: z.boolean(),
      dead: z.boolean(),
      pid: z.number().nullable(),
      exit_code: z.number().nullable(),
      error: nullableString,
      started_at: nullableString,
      finished_at: nullableString,
      health: z
        .object({
          status: nullableString,
          failing_streak: z.number(),
          log: z.array(
            z.object({
              start: nullableString,
              end: nullableString,
              exit_code: z.number().nullable(),
              output: z.string(),
            }),
          ),
        })
        .nullable(),
    }),
    restart_count: z.number(),
    restart_policy: z.object({ name: z.string(), maximum_retry_count: z.number() }),
    config: z.object({
      hostname: nullableString,
      user: nullableString,
      working_dir: nullableString,
      entrypoint: z.array(z.string()).nullable(),
      cmd: z.array(z.string()).nullable(),
      path: nullableString,
      args: z.array(z.string()),
      env: z.array(z.string()),
      labels: labelsSchema,
      tty: z.boolean(),
      healthcheck: z.array(z.string()).nullable(),
      stop_signal: nullableString,
    }),
    host_config: z.object({
      network_mode: nullableString,
      memory_limit_bytes: z.number(),
      memory_reservation_bytes: z.number(),
      nano_cpus: z.number(),
      cpu_shares: z.number(),
      pids_limit: z.number().nullable(),
      privileged: z.boolean(),
      read_only_rootfs: z.boolean(),
      cap_add: z.array(z.string()),
      cap_drop: z.array(z.string()),
      security_opt: z.array(z.string()),
      log_driver: nullableString,
      log_options: labelsSchema,
      port_bindings: z.record(z.string(), z.array(z.string())),
    }),
    mounts: z.array(
      z.object({
        type: nullableString,
        name: nullableString,
        source: nullableString,
        destination: nullableString,
        mode: nullableString,
        read_write: z.boolean(),
      }),
    ),
    networks: z.record(
      z.string(),
      z.object({
        ip_address: nullableString,
        gateway: nullableString,
        mac_address: nullableString,
        aliases: z.array(z.string()),
      }),
    ),
  }),
  annotations: readAnnotations,
  handler: async ({ container }, ctx) => inspect(ctx.deps.engine, container, ctx.signal),
});

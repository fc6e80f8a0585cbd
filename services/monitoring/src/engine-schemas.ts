/**
 * The shapes this service reads from the Docker engine API (v1.41 and later), validated at the
 * boundary. Only the fields the tools use are declared; the engine writes `null` for many empty
 * lists and maps, so those are nullish.
 */
import { z } from 'zod';

const stringList = z.array(z.string()).nullish();
const stringMap = z.record(z.string(), z.string()).nullish();

export const containerSummarySchema = z.object({
  Id: z.string(),
  Names: stringList,
  Image: z.string().nullish(),
  ImageID: z.string().nullish(),
  Command: z.string().nullish(),
  Created: z.number().nullish(),
  State: z.string().nullish(),
  Status: z.string().nullish(),
  Ports: z
    .array(
      z.object({
        IP: z.string().nullish(),
        PrivatePort: z.number().nullish(),
        PublicPort: z.number().nullish(),
        Type: z.string().nullish(),
      }),
    )
    .nullish(),
  Labels: stringMap,
  NetworkSettings: z.object({ Networks: z.record(z.string(), z.unknown()).nullish() }).nullish(),
});
export type ContainerSummary = z.infer<typeof containerSummarySchema>;
export const containerListSchema = z.array(containerSummarySchema);

const healthSchema = z.object({
  Status: z.string().nullish(),
  FailingStreak: z.number().nullish(),
  Log: z
    .array(
      z.object({
        Start: z.string().nullish(),
        End: z.string().nullish(),
        ExitCode: z.number().nullish(),
        Output: z.string().nullish(),
      }),
    )
    .nullish(),
});

export const containerInspectSchema = z.object({
  Id: z.string(),
  Name: z.string().nullish(),
  Created: z.string().nullish(),
  Path: z.string().nullish(),
  Args: stringList,
  Image: z.string().nullish(),
  RestartCount: z.number().nullish(),
  Platform: z.string().nullish(),
  Driver: z.string().nullish(),
  State: z
    .object({
      Status: z.string().nullish(),
      Running: z.boolean().nullish(),
      Paused: z.boolean().nullish(),
      Restarting: z.boolean().nullish(),
      OOMKilled: z.boolean().nullish(),
      Dead: z.boolean().nullish(),
      Pid: z.number().nullish(),
      ExitCode: z.number().nullish(),
      Error: z.string().nullish(),
      StartedAt: z.string().nullish(),
      FinishedAt: z.string().nullish(),
      Health: healthSchema.nullish(),
    })
    .nullish(),
  HostConfig: z
    .object({
      RestartPolicy: z.object({ Name: z.string().nullish(), MaximumRetryCount: z.number().nullish() }).nullish(),
      NetworkMode: z.string().nullish(),
      Memory: z.number().nullish(),
      MemoryReservation: z.number().nullish(),
      NanoCpus: z.number().nullish(),
      CpuShares: z.number().nullish(),
      PidsLimit: z.number().nullish(),
      Privileged: z.boolean().nullish(),
      ReadonlyRootfs: z.boolean().nullish(),
      CapAdd: stringList,
      CapDrop: stringList,
      SecurityOpt: stringList,
      LogConfig: z.object({ Type: z.string().nullish(), Config: stringMap }).nullish(),
      PortBindings: z
        .record(
          z.string(),
          z.array(z.object({ HostIp: z.string().nullish(), HostPort: z.string().nullish() })).nullish(),
        )
        .nullish(),
    })
    .nullish(),
  Mounts: z
    .array(
      z.object({
        Type: z.string().nullish(),
        Name: z.string().nullish(),
        Source: z.string().nullish(),
        Destination: z.string().nullish(),
        Mode: z.string().nullish(),
        RW: z.boolean().nullish(),
      }),
    )
    .nullish(),
  Config: z
    .object({
      Hostname: z.string().nullish(),
      User: z.string().nullish(),
      Env: stringList,
      Cmd: stringList,
      Entrypoint: z.union([z.array(z.string()), z.string()]).nullish(),
      Image: z.string().nullish(),
      WorkingDir: z.string().nullish(),
      Labels: stringMap,
      Tty: z.boolean().nullish(),
      Healthcheck: z.object({ Test: stringList }).nullish(),
      StopSignal: z.string().nullish(),
    })
    .nullish(),
  NetworkSettings: z
    .object({
      Networks: z
        .record(
          z.string(),
          z.object({
            IPAddress: z.string().nullish(),
            Gateway: z.string().nullish(),
            MacAddress: z.string().nullish(),
            Aliases: stringList,
          }),
        )
        .nullish(),
    })
    .nullish(),
});
export type ContainerInspect = z.infer<typeof containerInspectSchema>;

const cpuUsageSchema = z.object({
  cpu_usage: z.object({ total_usage: z.number().nullish(), percpu_usage: z.array(z.number()).nullish() }).nullish(),
  system_cpu_usage: z.number().nullish(),
  online_cpus: z.number().nullish(),
});
const blkioEntry = z.object({ op: z.string().nullish(), value: z.number().nullish() });

export const containerStatsSchema = z.object({
  read: z.string().nullish(),
  preread: z.string().nullish(),
  name: z.string().nullish(),
  id: z.string().nullish(),
  pids_stats: z.object({ current: z.number().nullish(), limit: z.number().nullish() }).nullish(),
  cpu_stats: cpuUsageSchema.nullish(),
  precpu_stats: cpuUsageSchema.nullish(),
  memory_stats: z
    .object({
      usage: z.number().nullish(),
      limit: z.number().nullish(),
      stats: z.record(z.string(), z.number()).nullish(),
    })
    .nullish(),
  networks: z
    .record(
      z.string(),
      z.object({
        rx_bytes: z.number().nullish(),
        tx_bytes: z.number().nullish(),
        rx_packets: z.number().nullish(),
        tx_packets: z.number().nullish(),
        rx_errors: z.number().nullish(),
        tx_errors: z.number().nullish(),
        rx_dropped: z.number().nullish(),
        tx_dropped: z.number().nullish(),
      }),
    )
    .nullish(),
  blkio_stats: z.object({ io_service_bytes_recursive: z.array(blkioEntry).nullish() }).nullish(),
});
export type ContainerStats = z.infer<typeof containerStatsSchema>;

export const imageSummarySchema = z.object({
  Id: z.string(),
  RepoTags: stringList,
  RepoDigests: stringList,
  Created: z.number().nullish(),
  Size: z.number().nullish(),
  Containers: z.number().nullish(),
  Labels: stringMap,
});
export const imageListSchema = z.array(imageSummarySchema);

export const engineEventSchema = z.object({
  Type: z.string().nullish(),
  Action: z.string().nullish(),
  Actor: z.object({ ID: z.string().nullish(), Attributes: stringMap }).nullish(),
  scope: z.string().nullish(),
  time: z.number().nullish(),
  timeNano: z.number().nullish(),
});

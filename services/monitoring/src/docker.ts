/**
 * Containers and images as the tools show them: listed, resolved from a caller's reference,
 * inspected (curated and masked), measured (stats) and restarted. Everything goes through the
 * guarded Engine; no reference text reaches a URL path (only resolved full ids do).
 */
import { mapConcurrent } from './budget.js';
import { containerName, resolveContainerRef } from './container-ref.js';
import type { Engine } from './engine.js';
import {
  type ContainerInspect,
  containerInspectSchema,
  containerListSchema,
  containerStatsSchema,
  type ContainerSummary,
  imageListSchema,
} from './engine-schemas.js';
import { MonitoringError, shown } from './errors.js';
import { maskArgv, maskEnv, maskLabels, maskText } from './masking.js';
import { type StatsFigures, statsFigures } from './stats.js';

export const CONTAINER_STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'] as const;
export type ContainerState = (typeof CONTAINER_STATES)[number];

/** A label filter: `key` or `key=value`, printable ASCII. */
export const LABEL_FILTER = /^[\x21-\x3c\x3e-\x7e]{1,256}(=[\x20-\x7e]{0,1024})?$/;
/** A name filter: the characters of a container name (the engine matches it as a substring). */
export const NAME_FILTER = /^[a-zA-Z0-9_.-]{1,255}$/;
/** An image reference filter: repository[:tag] with * globs, as `docker images --filter reference=`. */
export const IMAGE_REFERENCE_FILTER = /^[a-zA-Z0-9*][a-zA-Z0-9_.:/@*-]{0,254}$/;

export async function listContainerSummaries(
  engine: Engine,
  options: { all: boolean; filters?: Record<string, string[]> | undefined; signal?: AbortSignal | undefined },
): Promise<ContainerSummary[]> {
  const filters =
    options.filters && Object.keys(options.filters).length > 0 ? JSON.stringify(options.filters) : undefined;
  return engine.getJson('/containers/json', containerListSchema, {
    query: { all: options.all, filters },
    signal: options.signal,
  });
}

export function containerView(container: ContainerSummary) {
  return {
    id: container.Id.slice(0, 12),
    name: containerName(container),
    image: container.Image ?? null,
    state: container.State ?? null,
    status: container.Status ?? null,
    created: container.Created ? new Date(container.Created * 1000).toISOString() : null,
    ports: (container.Ports ?? []).map((port) =>
      port.PublicPort
        ? `${port.IP ?? ''}${port.IP ? ':' : ''}${port.PublicPort}->${port.PrivatePort ?? '?'}/${port.Type ?? 'tcp'}`
        : `${port.PrivatePort ?? '?'}/${port.Type ?? 'tcp'}`,
    ),
    networks: Object.keys(container.NetworkSettings?.Networks ?? {}).sort(),
    labels: maskLabels(container.Labels ?? {}),
  };
}

export async function listContainers(
  engine: Engine,
  options: {
    all: boolean;
    name?: string | undefined;
    label?: string | undefined;
    status?: ContainerState | undefined;
    signal?: AbortSignal | undefined;
  },
) {
  const filters: Record<string, string[]> = {};
  if (options.name !== undefined) {
    if (!NAME_FILTER.test(options.name))
      throw new MonitoringError('INVALID_INPUT', `name: ${shown(options.name)} is not part of a container name`);
    filters['name'] = [options.name];
  }
  if (options.label !== undefined) {
    if (!LABEL_FILTER.test(options.label))
      throw new MonitoringError('INVALID_INPUT', `label: ${shown(options.label)} is not key or key=value`);
    filters['label'] = [options.label];
  }
  if (options.status !== undefined) filters['status'] = [options.status];
  // A status filter other than running only makes sense over all containers.
  const all = options.all || (options.status !== undefined && options.status !== 'running');
  return listContainerSummaries(engine, { all, filters, signal: options.signal });
}

/** The one container a reference names (exact id, exact name, then a unique id prefix). */
export async function resolveContainer(engine: Engine, ref: string, signal?: AbortSignal): Promise<ContainerSummary> {
  const containers = await listContainerSummaries(engine, { all: true, signal });
  return resolveContainerRef(ref, containers);
}

export async function inspectRaw(engine: Engine, id: string, signal?: AbortSignal): Promise<ContainerInspect> {
  return engine.getJson(`/containers/${id}/json`, containerInspectSchema, { signal });
}

const nullIfEmpty = (value: string | null | undefined) =>
  value === undefined || value === null || value === '' ? null : value;
const engineTime = (value: string | null | undefined) =>
  value === undefined || value === null || value.startsWith('0001-01-01') ? null : value;

/** The curated, masked view of `docker inspect`: what explains a container's state and setup. */
export function inspectView(info: ContainerInspect) {
  const state = info.State;
  const host = info.HostConfig;
  const config = info.Config;
  const entrypoint = config?.Entrypoint;
  return {
    id: info.Id,
    name: (info.Name ?? '').replace(/^\//, ''),
    image: config?.Image ?? null,
    image_id: info.Image ?? null,
    created: info.Created ?? null,
    state: {
      status: state?.Status ?? null,
      running: state?.Running ?? false,
      paused: state?.Paused ?? false,
      restarting: state?.Restarting ?? false,
      oom_killed: state?.OOMKilled ?? false,
      dead: state?.Dead ?? false,
      pid: state?.Pid ?? null,
      exit_code: state?.ExitCode ?? null,
      error: nullIfEmpty(state?.Error ? maskText(state.Error) : null),
      started_at: engineTime(state?.StartedAt),
      finished_at: engineTime(state?.FinishedAt),
      health: state?.Health
        ? {
            status: state.Health.Status ?? null,
            failing_streak: state.Health.FailingStreak ?? 0,
            // The last checks, newest last; their output may quote secrets, so it is masked too.
            log: (state.Health.Log ?? []).slice(-5).map((entry) => ({
              start: entry.Start ?? null,
              end: entry.End ?? null,
              exit_code: entry.ExitCode ?? null,
              output: maskText((entry.Output ?? '').slice(0, 2000)),
            })),
          }
        : null,
    },
    restart_count: info.RestartCount ?? 0,
    restart_policy: {
      name: nullIfEmpty(host?.RestartPolicy?.Name) ?? 'no',
      maximum_retry_count: host?.RestartPolicy?.MaximumRetryCount ?? 0,
    },
    config: {
      hostname: config?.Hostname ?? null,
      user: nullIfEmpty(config?.User),
      working_dir: nullIfEmpty(config?.WorkingDir),
      entrypoint:
        entrypoint === undefined || entrypoint === null
          ? null
          : maskArgv(typeof entrypoint === 'string' ? [entrypoint] : entrypoint),
      cmd: config?.Cmd ? maskArgv(config.Cmd) : null,
      path: info.Path ?? null,
      args: maskArgv(info.Args ?? []),
      env: maskEnv(config?.Env ?? []),
      labels: maskLabels(config?.Labels ?? {}),
      tty: config?.Tty ?? false,
      healthcheck: config?.Healthcheck?.Test ? maskArgv(config.Healthcheck.Test) : null,
      stop_signal: config?.StopSignal ?? null,
    },
    host_config: {
      network_mode: host?.NetworkMode ?? null,
      memory_limit_bytes: host?.Memory ?? 0,
      memory_reservation_bytes: host?.MemoryReservation ?? 0,
      nano_cpus: host?.NanoCpus ?? 0,
      cpu_shares: host?.CpuShares ?? 0,
      pids_limit: host?.PidsLimit ?? null,
      privileged: host?.Privileged ?? false,
      read_only_rootfs: host?.ReadonlyRootfs ?? false,
      cap_add: host?.CapAdd ?? [],
      cap_drop: host?.CapDrop ?? [],
      security_opt: host?.SecurityOpt ?? [],
      log_driver: host?.LogConfig?.Type ?? null,
      log_options: maskLabels(host?.LogConfig?.Config ?? {}),
      port_bindings: Object.fromEntries(
        Object.entries(host?.PortBindings ?? {}).map(([port, bindings]) => [
          port,
          (bindings ?? []).map((binding) => `${binding.HostIp ? `${binding.HostIp}:` : ''}${binding.HostPort ?? ''}`),
        ]),
      ),
    },
    mounts: (info.Mounts ?? []).map((mount) => ({
      type: mount.Type ?? null,
      name: mount.Name ?? null,
      source: mount.Source ?? null,
      destination: mount.Destination ?? null,
      mode: nullIfEmpty(mount.Mode),
      read_write: mount.RW ?? true,
    })),
    networks: Object.fromEntries(
      Object.entries(info.NetworkSettings?.Networks ?? {}).map(([name, network]) => [
        name,
        {
          ip_address: nullIfEmpty(network.IPAddress),
          gateway: nullIfEmpty(network.Gateway),
          mac_address: nullIfEmpty(network.MacAddress),
          aliases: network.Aliases ?? [],
        },
      ]),
    ),
  };
}

export async function inspectContainer(engine: Engine, ref: string, signal?: AbortSignal) {
  const container = await resolveContainer(engine, ref, signal);
  return inspectView(await inspectRaw(engine, container.Id, signal));
}

export interface ContainerStatsEntry extends StatsFigures {
  id: string;
  name: string;
}

/** One stats sample (the engine takes two, about a second apart, to fill precpu_stats). */
export async function statsOf(
  engine: Engine,
  container: ContainerSummary,
  signal?: AbortSignal,
): Promise<ContainerStatsEntry> {
  const stats = await engine.getJson(`/containers/${container.Id}/stats`, containerStatsSchema, {
    query: { stream: false },
    signal,
    maxBytes: 4 * 1024 * 1024,
  });
  return { id: container.Id.slice(0, 12), name: containerName(container), ...statsFigures(stats) };
}

/** Stats of one container, or of every running one (at most `max`, `concurrency` at a time). */
export async function containerStats(
  engine: Engine,
  ref: string | undefined,
  options: { concurrency: number; max: number; signal?: AbortSignal | undefined },
) {
  if (ref !== undefined) {
    const container = await resolveContainer(engine, ref, options.signal);
    if (container.State !== 'running') {
      throw new MonitoringError(
        'CONFLICT',
        `Container ${shown(containerName(container))} is not running (${container.State ?? 'unknown'}): stats need a running container`,
      );
    }
    return { containers: [await statsOf(engine, container, options.signal)], running: 1, truncated: false };
  }
  const running = await listContainerSummaries(engine, { all: false, signal: options.signal });
  const chosen = running.slice(0, options.max);
  const entries = await mapConcurrent(
    chosen,
    options.concurrency,
    async (container) => {
      try {
        return await statsOf(engine, container, options.signal);
      } catch (error) {
        // A container that stopped between the list and its sample is left out, not a failure of the call.
        if (error instanceof MonitoringError && (error.code === 'NOT_FOUND' || error.code === 'CONFLICT'))
          return undefined;
        throw error;
      }
    },
    options.signal,
  );
  return {
    containers: entries.filter((entry): entry is ContainerStatsEntry => entry !== undefined),
    running: running.length,
    truncated: running.length > chosen.length,
  };
}

export async function listImages(
  engine: Engine,
  options: {
    all: boolean;
    reference?: string | undefined;
    dangling?: boolean | undefined;
    signal?: AbortSignal | undefined;
  },
) {
  const filters: Record<string, string[]> = {};
  if (options.reference !== undefined) {
    if (!IMAGE_REFERENCE_FILTER.test(options.reference)) {
      throw new MonitoringError(
        'INVALID_INPUT',
        `reference: ${shown(options.reference)} is not an image reference (repository[:tag], * allowed)`,
      );
    }
    filters['reference'] = [options.reference];
  }
  if (options.dangling !== undefined) filters['dangling'] = [String(options.dangling)];
  const images = await engine.getJson('/images/json', imageListSchema, {
    query: { all: options.all, filters: Object.keys(filters).length > 0 ? JSON.stringify(filters) : undefined },
    signal: options.signal,
  });
  return images
    .map((image) => ({
      id: image.Id.replace(/^sha256:/, '').slice(0, 12),
      tags: (image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
      digests: image.RepoDigests ?? [],
      created: image.Created ? new Date(image.Created * 1000).toISOString() : null,
      size_bytes: image.Size ?? 0,
      containers:
        image.Containers !== undefined && image.Containers !== null && image.Containers >= 0 ? image.Containers : null,
    }))
    .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
}

export async function restartContainer(engine: Engine, ref: string, timeoutSeconds: number, signal?: AbortSignal) {
  const container = await resolveContainer(engine, ref, signal);
  const before = await inspectRaw(engine, container.Id, signal);
  await engine.restart(container.Id, timeoutSeconds, signal);
  const after = await inspectRaw(engine, container.Id, signal);
  return {
    id: container.Id.slice(0, 12),
    name: containerName(container),
    restarted: true,
    previous_started_at: engineTime(before.State?.StartedAt),
    started_at: engineTime(after.State?.StartedAt),
    status: after.State?.Status ?? null,
  };
}

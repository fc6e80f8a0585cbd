import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceProcessOptions {
  /** Settings of the service; PORT (0), HOST (127.0.0.1), LOG_LEVEL and LOG_FLUSH_MS are set unless given. */
  env?: Record<string, string>;
  /** Working directory (default: the current one). */
  cwd?: string;
  /** How long to wait for the service to listen (default 30 s). */
  readyTimeoutMs?: number;
  /** Extra node flags, e.g. `--max-old-space-size=256`. */
  nodeArgs?: string[];
  /**
   * `entry` is built JavaScript (a service's dist/ or bundle): run it with plain node, as the image
   * does, instead of from source through tsx.
   */
  built?: boolean;
}

export interface ServiceProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Resident memory now (VmRSS), in bytes. */
  rssBytes(): number;
  /** The most resident memory the process has had so far (VmHWM), in bytes. */
  peakRssBytes(): number;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output(): string;
  /** Sends a signal (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
  return Number(match[1]) * 1024;
}

/**
 * Runs a service's entry (`src/main.ts`, through tsx, or a built one: `built`) as its own process,
 * the way a container runs it, and resolves once it listens: for what only a real process shows (resident memory, signals,
 * exit codes). The address comes from the service's own "listening" log line.
 */
export function startServiceProcess(entry: string, options: ServiceProcessOptions = {}): Promise<ServiceProcess> {
  // From source (the workspace packages' `@mcp-sse/source` export), as the in-process tests run.
  const fromSource = options.built ? [] : ['--conditions=@mcp-sse/source', '--import', 'tsx'];
  const child = spawn(process.execPath, [...fromSource, ...(options.nodeArgs ?? []), entry], {
    cwd: options.cwd,
    env: {
      PATH: process.env['PATH'] ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      LOG_FLUSH_MS: '0',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const pid = child.pid;
  if (pid === undefined) return Promise.reject(new Error(`could not start ${entry}`));

  return new Promise((resolve, reject) => {
    const timeoutMs = options.readyTimeoutMs ?? 30_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not listen within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    const onExit = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited (${code ?? signal}) before listening; output:\n${output}`));
    };
    void exited.then(onExit);
    const onData = () => {
      const match = /"address":"(http:\/\/[^"]+)"/.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        pid,
        child,
        rssBytes: () => statusField(pid, 'VmRSS'),
        peakRssBytes: () => statusField(pid, 'VmHWM'),
        output: () => output,
        stop: (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout.on('data', onData);
  });
}

/**
 * The built entry of the service in `serviceDir`, as its package.json names it ("main": what the
 * image runs with `node .`), for startServiceProcess with `built`; throws, saying to build, when
 * it is missing.
 */
export function builtEntry(serviceDir: string): string {
  const { main } = JSON.parse(readFileSync(join(serviceDir, 'package.json'), 'utf8')) as { main?: unknown };
  if (typeof main !== 'string') throw new Error(`${serviceDir}/package.json has no "main"`);
  const entry = join(serviceDir, main);
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run pnpm build first (it makes the bundle)`);
  return entry;
}

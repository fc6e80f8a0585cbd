/**
 * Test containers on the real Docker engine, from a tiny image built here (busybox from Debian's
 * busybox-static, FROM scratch; no registry is needed). Everything a fixture creates carries its
 * unique prefix (`mcp-montest-<random>`) and a label, and `cleanup()` removes exactly that, so other
 * users of the engine (an e2e run's `mcp-*` containers) are never touched. The docker CLI is run with
 * execFile (no shell).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REAL_SOCKET = '/var/run/docker.sock';
const BUSYBOX = '/bin/busybox';

export function docker(args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('docker', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`docker ${args.slice(0, 3).join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout.trim());
    });
  });
}

/** GET on the real socket; fails with a clear message when no engine answers (never hangs, never skips). */
export function engineGet(
  path: string,
  socketPath = REAL_SOCKET,
  timeoutMs = 10_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export async function requireEngine(): Promise<void> {
  try {
    const { status } = await engineGet('/_ping', REAL_SOCKET, 5000);
    if (status !== 200) throw new Error(`/_ping answered ${status}`);
  } catch (error) {
    throw new Error(
      `These tests need a running Docker engine on ${REAL_SOCKET} (start one with scripts/ensure-docker.sh): ${(error as Error).message}`,
    );
  }
  if (!existsSync(BUSYBOX)) {
    throw new Error(`These tests build their image from ${BUSYBOX}: apt-get install -y busybox-static`);
  }
}

export interface RunOptions {
  env?: Record<string, string>;
  labels?: Record<string, string>;
  tty?: boolean;
  restart?: string;
  network?: string;
  /** Arguments after the image (default: sh -c script). */
  command?: string[];
  detach?: boolean;
}

export class DockerFixture {
  readonly prefix = `mcp-montest-${randomBytes(4).toString('hex')}`;
  readonly image = `${this.prefix}:latest`;
  private readonly networks: string[] = [];
  private built = false;

  /** Builds the image: busybox with its applets linked into /bin. */
  async build(): Promise<void> {
    await requireEngine();
    const dir = mkdtempSync(join(tmpdir(), 'mcp-montest-'));
    try {
      copyFileSync(BUSYBOX, join(dir, 'busybox'));
      writeFileSync(
        join(dir, 'Dockerfile'),
        [
          'FROM scratch',
          'COPY busybox /bin/busybox',
          'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
          `LABEL mcp-montest="${this.prefix}"`,
          'CMD ["sh"]',
        ].join('\n'),
      );
      await docker(['build', '--network', 'host', '-q', '-t', this.image, dir], 300_000);
      this.built = true;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  /** Starts a container running `sh -c script`; returns its full id. */
  async run(suffix: string, script: string, options: RunOptions = {}): Promise<string> {
    const name = this.name(suffix);
    const args = [
      'run',
      '-d',
      '--name',
      name,
      '--network',
      options.network ?? 'none',
      '--label',
      `mcp-montest=${this.prefix}`,
    ];
    if (options.tty) args.push('-t');
    if (options.restart) args.push('--restart', options.restart);
    for (const [key, value] of Object.entries(options.env ?? {})) args.push('-e', `${key}=${value}`);
    for (const [key, value] of Object.entries(options.labels ?? {})) args.push('--label', `${key}=${value}`);
    args.push(this.image, ...(options.command ?? ['sh', '-c', script]));
    return docker(args);
  }

  async network(suffix: string): Promise<string> {
    const name = this.name(suffix);
    this.networks.push(name);
    await docker(['network', 'create', '--label', `mcp-montest=${this.prefix}`, name]);
    return name;
  }

  /** Removes what this fixture created (and only that), whatever state the tests left it in. */
  async cleanup(): Promise<void> {
    const errors: string[] = [];
    // Every container a fixture runs carries its label; names are a second net for one that failed half-way.
    const ours = await docker(['ps', '-aq', '--filter', `label=mcp-montest=${this.prefix}`]).catch(() => '');
    const ids = ours.split('\n').filter(Boolean);
    if (ids.length > 0) await docker(['rm', '-f', ...ids]).catch((error: Error) => errors.push(error.message));
    const named = await docker(['ps', '-aq', '--filter', `name=${this.prefix}`]).catch(() => '');
    for (const id of named.split('\n').filter(Boolean)) {
      await docker(['rm', '-f', id]).catch((error: Error) => errors.push(error.message));
    }
    for (const network of this.networks) {
      await docker(['network', 'rm', network]).catch((error: Error) => errors.push(error.message));
    }
    if (this.built) await docker(['rmi', '-f', this.image]).catch((error: Error) => errors.push(error.message));
    const left = await docker(['ps', '-aq', '--filter', `name=${this.prefix}`]).catch(() => '');
    if (left !== '') errors.push(`containers left: ${left}`);
    if (errors.some((e) => !/No such|already in progress/.test(e)))
      throw new Error(`cleanup of ${this.prefix}: ${errors.join('; ')}`);
  }
}

/** Inspect through the real socket (the test's own view, independent of the service). */
export async function inspectReal(ref: string): Promise<Record<string, unknown>> {
  const { status, body } = await engineGet(`/containers/${encodeURIComponent(ref)}/json`);
  if (status !== 200) throw new Error(`inspect ${ref}: ${status} ${body}`);
  return JSON.parse(body) as Record<string, unknown>;
}

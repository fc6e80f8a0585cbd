import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * What `./deploy.sh up --swarm` deploys, read without a swarm: `./deploy.sh config --swarm` runs the
 * same `docker stack config` of docker-compose.yml (the docker CLI only, no engine). Checked against
 * config/services.yaml, so that a compose change that Swarm refuses (a property the stack format
 * lacks, as group_add) or one that breaks the replica rule fails here, not on an operator's swarm.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

interface Entry {
  name: string;
  port: number;
  scale: string;
}
const registry = (parse(readFileSync(join(root, 'config/services.yaml'), 'utf8')) as { services: Entry[] }).services;

interface StackService {
  image: string;
  group_add?: unknown;
  ports?: { mode: string; target: number; published: number; protocol: string }[];
  deploy: { replicas: number | string; endpoint_mode: string; update_config: { order: string } };
}
interface Stack {
  services: Record<string, StackService>;
}

const work = mkdtempSync(join(tmpdir(), 'swarm-stack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const secrets = join(work, 'secrets.env');
writeFileSync(secrets, 'LOG_LEVEL=warn\n');

async function stackConfig(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('./deploy.sh', ['config', '--swarm', ...args], {
      cwd: root,
      env: { ...process.env, SECRETS_FILE: secrets, NO_COLOR: '1', MCP_DOCKER_GID: '4242', ...env },
      timeout: 60_000,
    });
    return { stack: parse(stdout) as Stack, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stderr?: string; stdout?: string };
    if (failed.code === 'ENOENT') throw new Error('./deploy.sh could not run');
    if (/docker: command not found|docker: not found/.test(failed.stderr ?? ''))
      throw new Error('the docker CLI is needed (scripts/ensure-docker.sh installs it)');
    throw error;
  }
}

describe('./deploy.sh config --swarm', () => {
  it('every registry service, with the replicas and update order its scale says, and no group_add', async () => {
    const { stack, stderr } = await stackConfig([], { MCP_REPLICAS: '3' });
    expect(Object.keys(stack.services).sort()).toEqual(registry.map((entry) => `mcp-${entry.name}`).sort());
    for (const entry of registry) {
      const service = stack.services[`mcp-${entry.name}`]!;
      const one = entry.scale !== 'out';
      expect({
        name: entry.name,
        replicas: Number(service.deploy.replicas),
        order: service.deploy.update_config.order,
      }).toEqual({
        name: entry.name,
        replicas: one ? 1 : 3,
        order: one ? 'stop-first' : 'start-first',
      });
      expect(service.group_add).toBeUndefined();
      expect(service.deploy.endpoint_mode).toBe('vip');
      expect(service.ports).toEqual([{ mode: 'ingress', target: entry.port, published: entry.port, protocol: 'tcp' }]);
    }
    // The group the stack format cannot carry: added after the deploy (the Docker socket's, for monitoring).
    expect(stderr.trim().split('\n')).toEqual([
      '# mcp-monitoring: and --group-add 4242 (docker service update, after the deploy)',
    ]);
  });

  it('only the services named; dnsrr publishes no port', async () => {
    const { stack, stderr } = await stackConfig(['fetch', 'mcp-filesystem'], { MCP_SWARM_ENDPOINT_MODE: 'dnsrr' });
    expect(Object.keys(stack.services).sort()).toEqual(['mcp-fetch', 'mcp-filesystem']);
    for (const service of Object.values(stack.services)) {
      expect(service.deploy.endpoint_mode).toBe('dnsrr');
      expect(service.ports).toBeUndefined();
      expect(Number(service.deploy.replicas)).toBe(2);
    }
    expect(stderr).toBe('');
  });

  it("a compose file Swarm refuses stops with docker stack config's reason, exit 5, and leaves no copy behind", async () => {
    const broken = join(work, 'broken.yml');
    writeFileSync(
      broken,
      "services:\n  mcp-fetch:\n    image: mcp-sse/fetch:latest\n    group_add: ['1']\n    not_a_property: 1\n",
    );
    const failure = await stackConfig([], { COMPOSE_FILE: broken }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(5);
    expect(failure?.stderr).toMatch(/docker stack config refused the compose files: .*not_a_property/);
    expect(readdirSync(work).sort()).toEqual(['broken.yml', 'secrets.env']);
  });
});

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * config/services.yaml is where a service's name and port are written. Everything else either reads
 * the registry (the scripts, the README and INTEGRATION tables) or is checked against it here:
 * docker-compose.yml, the one Dockerfile.service, each service's PORT default and env example, and
 * every address with a port in the docs. Adding a service = one registry entry + one compose entry.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

interface Entry {
  name: string;
  port: number;
  image: string;
  container: string;
  networks: string;
}
const registry = (parse(read('config/services.yaml')) as { services: Entry[] }).services;
const byName = new Map(registry.map((entry) => [entry.name, entry]));
const stem = (name: string) => name.toUpperCase().replaceAll('-', '_');

describe('config/services.yaml', () => {
  it('lists every folder of services/, and only those, each with its own port', () => {
    const folders = readdirSync(`${root}services`, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(registry.map((entry) => entry.name).sort()).toEqual(folders.sort());
    const ports = registry.map((entry) => entry.port);
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) expect(Number.isInteger(port) && port > 0 && port < 65536).toBe(true);
  });
});

describe('docker-compose.yml agrees with the registry', () => {
  interface ComposeService {
    image?: string;
    container_name?: string;
    build?: { dockerfile?: string; args?: { SERVICE?: string; PORT?: string } };
    environment?: { PORT?: string };
    ports?: string[];
    networks?: string[];
  }
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<string, ComposeService>;
  };

  it('has one entry mcp-<name> per registry service', () => {
    expect(Object.keys(compose.services).sort()).toEqual(registry.map((entry) => `mcp-${entry.name}`).sort());
  });

  it.each(registry.map((entry) => [entry.name, entry] as const))(
    'mcp-%s: Dockerfile.service with its name and port, PORT, published port, names, networks',
    (name, entry) => {
      const service = compose.services[`mcp-${name}`]!;
      const port = String(entry.port);
      expect({
        dockerfile: service.build?.dockerfile,
        SERVICE: service.build?.args?.SERVICE,
        buildPort: service.build?.args?.PORT,
        PORT: service.environment?.PORT,
        ports: service.ports,
        container: service.container_name,
        image: service.image,
        networks: service.networks,
      }).toEqual({
        dockerfile: 'Dockerfile.service',
        SERVICE: name,
        buildPort: port,
        PORT: port,
        ports: [`127.0.0.1:\${MCP_${stem(name)}_PORT:-${port}}:${port}`],
        container: `\${MCP_CONTAINER_PREFIX:-mcp-}${entry.container.replace(/^mcp-/, '')}`,
        image: `${entry.image}:\${MCP_IMAGE_TAG:-latest}`,
        networks: entry.networks.split(/\s+/),
      });
    },
  );
});

describe('Dockerfile.service', () => {
  const dockerfile = read('Dockerfile.service');

  it('is the only service Dockerfile (no services/<name>/Dockerfile)', () => {
    expect(registry.filter((entry) => existsSync(`${root}services/${entry.name}/Dockerfile`))).toEqual([]);
  });

  it('takes SERVICE and PORT as build arguments without defaults, and writes no port itself', () => {
    expect(dockerfile.match(/^ARG (SERVICE|PORT)\b.*$/gm)).toEqual([
      'ARG SERVICE',
      'ARG PORT',
      'ARG SERVICE',
      'ARG PORT',
    ]);
    for (const entry of registry) expect(dockerfile).not.toMatch(new RegExp(`\\b${entry.port}\\b`));
  });

  it('checks the PORT build argument against config/services.yaml', () => {
    expect(dockerfile).toContain('/repo/config/services.yaml');
    expect(dockerfile).toMatch(/String\(entry\.port\) !== port/);
  });
});

describe("each service's own files agree with the registry", () => {
  it.each(registry.map((entry) => [entry.name, entry.port] as const))(
    'services/%s/src/config.ts defaults PORT to %i',
    async (name, port) => {
      const module = (await import(pathToFileURL(`${root}services/${name}/src/config.ts`).href)) as Record<
        string,
        unknown
      >;
      // the exported object schema(s) that declare PORT (a transform or refinement wraps some)
      const defaults = Object.values(module)
        .map((value) => (value as { shape?: { PORT?: { parse(v: unknown): unknown } } } | null)?.shape?.PORT)
        .filter((field) => field !== undefined)
        .map((field) => field.parse(undefined));
      expect(defaults.length).toBeGreaterThan(0);
      expect(new Set(defaults)).toEqual(new Set([port]));
    },
  );

  it.each(registry.map((entry) => [entry.name, entry.port] as const))(
    'config/%s.env.example says PORT=%i',
    (name, port) => {
      expect(read(`config/${name}.env.example`).match(/^PORT=.*$/gm)).toEqual([`PORT=${port}`]);
    },
  );
});

describe('the docs use the registry', () => {
  const generated = execFileSync('bash', ['-c', '. scripts/lib/registry.sh; registry_markdown'], {
    cwd: root,
    encoding: 'utf8',
  });

  it.each(['README.md', 'docs/INTEGRATION.md'])('the service table of %s is the one the registry generates', (file) => {
    const match = /<!-- services:begin[^>]*-->\n([\s\S]*?)<!-- services:end -->/.exec(read(file));
    expect(match, `${file} has no services:begin/end markers`).not.toBeNull();
    expect(match?.[1]).toBe(generated);
  });

  it("the replica table of the README is the one the registry's scale generates", () => {
    const scale = execFileSync('bash', ['-c', '. scripts/lib/registry.sh; registry_scale_markdown'], {
      cwd: root,
      encoding: 'utf8',
    });
    const match = /<!-- scale:begin[^>]*-->\n([\s\S]*?)<!-- scale:end -->/.exec(read('README.md'));
    expect(match, 'README.md has no scale:begin/end markers').not.toBeNull();
    expect(match?.[1]).toBe(scale);
    // every service once: the `one` rows by name, the `out` ones together
    for (const entry of registry)
      expect(scale).toMatch(new RegExp(`^\\| (?:[a-z-]+, )*${entry.name}(?:, [a-z-]+)* \\|`, 'm'));
  });

  it('generates a row per service', () => {
    for (const entry of registry) {
      expect(generated).toContain(`| ${entry.name} | \`${entry.container}\` | ${entry.port} |`);
    }
  });

  // Every address with a port: `mcp-<name>:<port>` must be that service's port. A loopback address
  // with a port in the services' range (the hundreds the registry's ports fall in: 8000-8099 today;
  // a database's 5432 is not one) must be the port of the file's service (its README or env example)
  // or of the one service its line names, or else of some service.
  const ports = registry.map((entry) => entry.port);
  const low = Math.floor(Math.min(...ports) / 100) * 100;
  const high = Math.floor(Math.max(...ports) / 100) * 100 + 100;
  const documents = [
    'README.md',
    ...readdirSync(`${root}docs`)
      .filter((file) => file.endsWith('.md'))
      .map((file) => `docs/${file}`),
    ...registry.map((entry) => `services/${entry.name}/README.md`),
    ...registry.map((entry) => `config/${entry.name}.env.example`),
    'config/services.yaml',
    'config/networks.yaml',
  ].filter((file) => existsSync(`${root}${file}`));

  function wrongPorts(file: string, text = read(file)): string[] {
    const owner = /^(?:services\/([^/]+)\/README\.md|config\/([^/.]+)\.env\.example)$/.exec(file);
    const fileService = owner?.[1] ?? owner?.[2];
    const problems: string[] = [];
    for (const [index, line] of text.split('\n').entries()) {
      const where = `${file}:${index + 1}`;
      for (const [, name, port] of line.matchAll(/\bmcp-([a-z][a-z0-9-]*):(\d+)\b/g)) {
        const entry = byName.get(name!);
        if (!entry) problems.push(`${where}: mcp-${name} is not a registry service`);
        else if (entry.port !== Number(port)) problems.push(`${where}: mcp-${name}:${port}, registry ${entry.port}`);
      }
      const named = registry.filter((entry) => new RegExp(`(?<![\\w-])(mcp-)?${entry.name}(?![\\w-])`).test(line));
      for (const [, port] of line.matchAll(/\b(?:localhost|127\.0\.0\.1|0\.0\.0\.0):(\d+)\b/g)) {
        const value = Number(port);
        if (value < low || value >= high) continue;
        const service = fileService ?? (named.length === 1 ? named[0]!.name : undefined);
        if (service !== undefined) {
          if (byName.get(service)?.port !== value) problems.push(`${where}: port ${value} for ${service}`);
        } else if (!ports.includes(value)) {
          problems.push(`${where}: port ${value} is no service's`);
        }
      }
    }
    return problems;
  }

  it.each(documents)('%s names each service with its registry port', (file) => {
    expect(wrongPorts(file)).toEqual([]);
  });

  it('notices a wrong port (the check itself)', () => {
    const sqlite = byName.get('sqlite')!;
    const fetch = byName.get('fetch')!;
    const unused = [...Array(100).keys()].map((i) => low + i).find((port) => !ports.includes(port))!;
    expect(wrongPorts('docs/X.md', `see http://mcp-sqlite:${sqlite.port + 1000}/sse`)).toHaveLength(1);
    expect(wrongPorts('docs/X.md', `see http://mcp-nosuch:${sqlite.port}/sse`)).toHaveLength(1);
    expect(wrongPorts('services/sqlite/README.md', `curl localhost:${fetch.port}/health`)).toHaveLength(1);
    expect(wrongPorts('docs/X.md', `| sqlite | http://127.0.0.1:${fetch.port} |`)).toHaveLength(1);
    expect(wrongPorts('README.md', `curl -s localhost:${unused}/health`)).toHaveLength(1);
    expect(wrongPorts('README.md', `curl -s localhost:${sqlite.port}/health; psql -h 127.0.0.1:5432`)).toEqual([]);
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * The containers issue asks for one Dockerfile per service, and the legacy builder has no include,
 * so the four files repeat one shape. This keeps them one shape: each is the sqlite file with only
 * the service name, its port (from config/services.yaml) and its data folders changed.
 */
const services = (
  parse(readFileSync(`${root}config/services.yaml`, 'utf8')) as {
    services: Array<{ name: string; port: number }>;
  }
).services;

function normalize(text: string, name: string, port: number): string {
  return text
    .replaceAll(`mcp-${name}:`, 'mcp-<service>:')
    .replaceAll(`services/${name}/Dockerfile`, 'services/<service>/Dockerfile')
    .replaceAll(`mcp-sse/${name}:latest`, 'mcp-sse/<service>:latest')
    .replace(new RegExp(`^ARG SERVICE=${name}$`, 'gm'), 'ARG SERVICE=<service>')
    .replace(new RegExp(`^ARG PORT=${port}$`, 'm'), 'ARG PORT=<port>')
    .replace(/^ARG DATA_DIRS=.*$/m, 'ARG DATA_DIRS=<data dirs>');
}

describe('services/<name>/Dockerfile', () => {
  it('exists for every service of the registry, and only for those', () => {
    const withDockerfile = readdirSync(`${root}services`).filter((dir) =>
      readdirSync(`${root}services/${dir}`).includes('Dockerfile'),
    );
    expect(withDockerfile.sort()).toEqual(services.map((s) => s.name).sort());
  });

  it.each(services.map((s) => [s.name, s.port] as const))(
    '%s differs from the others only in its name, port %i and data folders',
    (name, port) => {
      const reference = services.find((s) => s.name === 'sqlite')!;
      const expected = normalize(
        readFileSync(`${root}services/sqlite/Dockerfile`, 'utf8'),
        reference.name,
        reference.port,
      );
      const actual = readFileSync(`${root}services/${name}/Dockerfile`, 'utf8');
      expect(actual).toMatch(new RegExp(`^ARG PORT=${port}$`, 'm'));
      expect(normalize(actual, name, port)).toBe(expected);
    },
  );
});

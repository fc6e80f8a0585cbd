import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { baseConfigSchema } from '@mcp-sse/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * config/nginx/ against the registry and the core: locations.conf is what generate-locations.sh
 * makes from config/services.yaml (no port written twice), and the proxy settings keep SSE working
 * (no buffering, a read timeout above the core's heartbeat). nginx itself runs the files in
 * packages/core/test/nginx-tls.test.ts.
 */
const root = fileURLToPath(new URL('../../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const registry = (
  parse(read('config/services.yaml')) as { services: { name: string; port: number; container: string }[] }
).services;

describe('config/nginx', () => {
  it('locations.conf is what generate-locations.sh makes from config/services.yaml', () => {
    const generated = execFileSync('bash', [`${root}config/nginx/generate-locations.sh`, '--stdout'], {
      encoding: 'utf8',
    });
    expect(read('config/nginx/locations.conf')).toBe(generated);
  });

  it.each(registry.map((entry) => [entry.name, entry] as const))(
    '%s: its prefix, its well-known documents and its container:port',
    (name, entry) => {
      const locations = read('config/nginx/locations.conf');
      const upstream = `set $mcp_upstream ${entry.container}:${entry.port};`;
      expect(locations).toContain(`location /${name}/ {\n    ${upstream}\n    rewrite ^/${name}(/.*)$ $1 break;`);
      expect(locations).toContain(
        `location ~ ^/\\.well-known/(oauth-protected-resource|oauth-authorization-server|openid-configuration)/${name}(/|$) {\n    ${upstream}`,
      );
      expect(locations).toContain(`location = /${name}/metrics {\n    return 404;`);
    },
  );

  it('streams without buffering, with a read timeout above the SSE heartbeat', () => {
    const proxy = read('config/nginx/proxy.conf');
    expect(proxy).toMatch(/^proxy_buffering off;$/m);
    expect(proxy).toMatch(/^proxy_cache off;$/m);
    const timeout = /^proxy_read_timeout (\d+)s;$/m.exec(proxy);
    expect(timeout).not.toBeNull();
    const heartbeatMs = baseConfigSchema.parse({}).MCP_SSE_HEARTBEAT_MS;
    expect(Number(timeout![1]) * 1000).toBeGreaterThanOrEqual(2 * heartbeatMs);
    const server = read('config/nginx/mcp-sse.conf');
    expect(server).toMatch(/^ {4}listen 443 ssl http2;$/m);
    expect(server).toMatch(/^ {4}include mcp-sse\/locations\.conf;$/m);
  });
});

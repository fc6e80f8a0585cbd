import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { httpRequest, rpc, type StartedService, startService } from '../../testing/src/index.js';
import { defineService } from '../src/index.js';
import { echoService } from './helpers/echo-service.js';

/** A service with HTTP routes of its own (a REST endpoint, a public page, a token-checked stream). */
const withRoutes = defineService({
  ...echoService,
  routes: (app, { deps }) => {
    app.get('/', { config: { access: 'public' } }, (_request, reply) =>
      reply.type('text/html').send('<!doctype html><title>dashboard</title>'),
    );
    app.get('/api/calls', (request) => ({ calls: deps.calls, identity: request.identity.id }));
    app.get('/events', { config: { access: 'public' } }, (request, reply) => {
      const token = (request.query as { token?: string }).token;
      if (token !== 'signed') return reply.code(401).send({ error: 'bad token' });
      return { identity: request.identity.id };
    });
    // The gate finds each route's access however the route is declared.
    app.get('/pages/:name', { config: { access: 'public' } }, (request) => ({ page: request.params }));
    app.get('/both', { config: { access: 'public' } }, () => ({ method: 'GET' }));
    app.post('/both', () => ({ method: 'POST' }));
    void app.register(
      async (scope) => {
        scope.get('/open', { config: { access: 'public' } }, () => ({ prefixed: true }));
        scope.get('/closed', () => ({ prefixed: true }));
      },
      { prefix: '/p' },
    );
  },
});

describe("a service's own routes (ServiceDefinition.routes)", () => {
  let svc: StartedService;
  beforeAll(async () => {
    svc = await startService(withRoutes, { env: { MCP_API_KEYS: 'k1' } });
  });
  afterAll(async () => svc.close());
  const key = { authorization: 'Bearer k1' };

  it('pass the gate like MCP requests: the API key, with the caller as request.identity', async () => {
    expect((await httpRequest(`${svc.url}/api/calls`)).status).toBe(401);
    expect((await httpRequest(`${svc.url}/api/calls`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    const ok = await httpRequest(`${svc.url}/api/calls`, { headers: key });
    // The identity names the key by a digest prefix, never the key.
    const id = `key:${createHash('sha256').update('k1').digest('hex').slice(0, 8)}`;
    expect(ok.json).toEqual({ calls: 0, identity: id });
    const foreign = await httpRequest(`${svc.url}/api/calls`, { headers: { ...key, host: 'evil.example.com' } });
    expect(foreign.status).toBe(403);
  });

  it("serve a public route without a key, still refusing a wrong key and a foreign Host, and replace the core's GET /", async () => {
    const page = await httpRequest(`${svc.url}/`);
    expect([page.status, page.text]).toEqual([200, '<!doctype html><title>dashboard</title>']);
    expect((await httpRequest(`${svc.url}/`, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await httpRequest(`${svc.url}/`, { headers: { host: 'evil.example.com' } })).status).toBe(403);
    expect((await httpRequest(`${svc.url}/events?token=forged`)).status).toBe(401);
    expect((await httpRequest(`${svc.url}/events?token=signed`)).json).toEqual({ identity: 'anonymous' });
  });

  it('keep their access however they are declared: with parameters, per method, under a prefix', async () => {
    const status = async (path: string, method = 'GET', headers: Record<string, string> = {}) =>
      (await httpRequest(`${svc.url}${path}`, { method, headers })).status;
    expect(await status('/pages/a')).toBe(200);
    expect(await status('/pages/a', 'GET', { authorization: 'Bearer nope' })).toBe(401);
    expect([await status('/both'), await status('/both', 'POST'), await status('/both', 'POST', key)]).toEqual([
      200, 401, 200,
    ]);
    expect([await status('/p/open'), await status('/p/closed'), await status('/p/closed', 'GET', key)]).toEqual([
      200, 401, 200,
    ]);
    // Not a route: the gate still asks for the key before the 404.
    expect([await status('/api/calls/'), await status('/nowhere', 'GET', key)]).toEqual([401, 404]);
  });

  it('leave the MCP endpoints as they are', async () => {
    const listed = await rpc(svc.url, 'tools/list', undefined, { headers: key });
    expect(listed.status).toBe(200);
    expect((await httpRequest(`${svc.url}/health`)).status).toBe(200);
    expect((await rpc(svc.url, 'tools/list')).status).toBe(401);
  });

  it('cannot take a path of the core', async () => {
    const clash = defineService({ ...echoService, routes: (app) => void app.get('/health', () => ({})) });
    await expect(startService(clash)).rejects.toThrow("Method 'GET' already declared for route '/health'");
  });
});

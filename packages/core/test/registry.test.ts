import { setFlagsFromString } from 'node:v8';

import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

import {
  defineService,
  defineTool,
  loadConfig,
  selectTools,
  ServiceError,
  TOOL_NAME,
  type ToolContext,
  ToolRegistry,
  withContent,
} from '../src/index.js';
import { echoService } from './helpers/echo-service.js';

const silent = {
  info: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  trace: () => undefined,
  fatal: () => undefined,
};
const identity = { id: 'anonymous', authenticated: false };

function registry(env: Record<string, string> = {}) {
  const config = loadConfig(echoService.config, env);
  return new ToolRegistry({
    service: 'echo',
    tools: echoService.tools,
    toolsets: echoService.toolsets,
    config,
    deps: { calls: 0, finished: [], aborted: [] },
  });
}
const call = (r: ToolRegistry, name: string, args: unknown) =>
  r.call(name, args, { identity, rateKey: 'test', transport: 'in-process', requestId: '1', logger: silent });

describe('registry invariants (every service runs these too)', () => {
  it('defines tools with valid names, descriptions and object inputs', () => {
    for (const tool of echoService.tools) {
      expect(tool.name).toMatch(TOOL_NAME);
      expect(tool.description.length).toBeGreaterThan(0);
    }
    expect(() =>
      defineTool({
        name: 'Bad-Name',
        title: 'x',
        description: 'x',
        toolset: 'read',
        input: z.object({}),
        annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
        handler: async () => ({}),
      }),
    ).toThrow(/must match/);
  });

  it('refuses duplicate tool names and undeclared toolsets', () => {
    const tool = echoService.tools[0]!;
    expect(() => defineService({ ...echoService, tools: [tool, tool] })).toThrow(/duplicate tool "echo"/);
    expect(() => defineService({ ...echoService, toolsets: { write: { description: 'w', default: true } } })).toThrow(
      /undeclared toolset "read"/,
    );
  });
});

describe('tool selection', () => {
  const { tools, toolsets } = echoService;
  const names = (env: { MCP_READ_ONLY?: boolean; MCP_TOOLSETS?: string[] }) =>
    selectTools(tools, toolsets, {
      MCP_READ_ONLY: env.MCP_READ_ONLY ?? false,
      MCP_TOOLSETS: env.MCP_TOOLSETS ?? [],
    }).map((t) => t.name);

  it('uses the default toolsets when MCP_TOOLSETS is unset', () => {
    expect(names({})).toEqual(['echo', 'slow', 'fail', 'write_thing']);
  });
  it('selects named toolsets, "all", and "default" plus extras', () => {
    expect(names({ MCP_TOOLSETS: ['write'] })).toEqual(['write_thing']);
    expect(names({ MCP_TOOLSETS: ['all'] })).toEqual(['echo', 'slow', 'fail', 'write_thing', 'get_pixel']);
    expect(names({ MCP_TOOLSETS: ['default', 'extra'] })).toEqual(['echo', 'slow', 'fail', 'write_thing', 'get_pixel']);
  });
  it('drops tools that are not read-only under MCP_READ_ONLY', () => {
    expect(names({ MCP_READ_ONLY: true })).toEqual(['echo', 'slow', 'fail']);
  });
  it('refuses an unknown toolset with a clear message', () => {
    expect(() => names({ MCP_TOOLSETS: ['nope'] })).toThrow(
      /MCP_TOOLSETS: unknown toolset "nope" \(known: read, write, extra, all, default\)/,
    );
  });
});

describe('ToolRegistry', () => {
  it('computes tools/list once', () => {
    const r = registry();
    expect(r.listResult).toBe(r.listResult);
    expect(r.listResult.tools).toHaveLength(4);
  });

  it('enforces MCP_READ_ONLY and MCP_TOOLSETS again at call time', async () => {
    const readOnly = registry({ MCP_READ_ONLY: 'true' });
    await expect(call(readOnly, 'write_thing', { value: 'x' })).rejects.toThrow('Unknown tool: write_thing');
    const onlyWrite = registry({ MCP_TOOLSETS: 'write' });
    await expect(call(onlyWrite, 'echo', { message: 'x' })).rejects.toThrow('Unknown tool: echo');
    expect((await call(onlyWrite, 'write_thing', { value: 'x' })).result.structuredContent).toEqual({ written: 'x' });
  });

  it('turns ServiceErrors into isError results with their code', async () => {
    const outcome = await call(registry(), 'fail', { kind: 'service' });
    expect(outcome.errorCode).toBe('NOT_FOUND');
    expect(outcome.result).toEqual({ content: [{ type: 'text', text: 'No such thing: widget 7' }], isError: true });
  });

  it('drains running calls on shutdown, aborting them after the grace period', async () => {
    const r = registry();
    const running = call(r, 'slow', { ms: 5000, steps: 1, tag: 'drain' });
    expect(r.pending).toBe(1);
    await r.drain(50);
    const outcome = await running;
    expect(outcome.errorCode).toBe('UNAVAILABLE');
    expect(r.pending).toBe(0);
    expect(new ServiceError('UNAVAILABLE', 'x').httpStatus).toBe(503);
  });
});

/** V8's own answer: false for a dictionary-mode object (an object literal with a getter is one). */
function hasFastProperties(value: object): boolean {
  setFlagsFromString('--allow-natives-syntax');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- natives syntax compiles only in code made after the flag
  return (new Function('value', 'return %HasFastProperties(value)') as (value: object) => boolean)(value);
}

describe("the handler's context", () => {
  // An object literal with getters, made per call, kept each call's objects alive through the young
  // generation's GC (its accessor pairs live in old space): `pnpm bench` core /rpc promoted about
  // 3 MB per scavenge. The context is a class whose getters sit on the prototype.
  it('is a fast-properties object with the getters on its prototype, its signal and session made lazily', async () => {
    const contexts: ToolContext<unknown, unknown>[] = [];
    const probe = defineTool({
      name: 'probe',
      title: 'Probe',
      description: 'Keeps its context.',
      toolset: 'read',
      input: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: async (_input, ctx) => {
        contexts.push(ctx);
        return {};
      },
    });
    const config = loadConfig(echoService.config, {});
    const r = new ToolRegistry({ service: 'echo', tools: [probe], toolsets: echoService.toolsets, config, deps: {} });
    const sessions: unknown[] = [];
    await call(r, 'probe', {});
    await r.call(
      'probe',
      {},
      {
        identity,
        rateKey: 'test',
        transport: 'streamable-http',
        requestId: '2',
        logger: silent,
        session: (binding) => {
          sessions.push(binding);
          return { capabilities: {}, createMessage: vi.fn(), elicit: vi.fn() };
        },
      },
    );
    const [onRpc, onSession] = contexts as [ToolContext<unknown, unknown>, ToolContext<unknown, unknown>];
    for (const ctx of contexts) {
      expect(hasFastProperties(ctx)).toBe(true);
      expect(Object.keys(ctx).sort()).toEqual([
        'config',
        'deps',
        'identity',
        'log',
        'logger',
        'progress',
        'requestId',
        'transport',
      ]);
      expect(Object.getOwnPropertyDescriptor(ctx, 'signal')).toBeUndefined();
      expect(typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ctx), 'signal')?.get).toBe('function');
    }
    expect(onRpc.transport).toBe('in-process');
    expect(onRpc.session).toBeUndefined();
    expect(sessions).toHaveLength(0);
    expect(onSession.session).toBe(onSession.session); // made once, on first read
    expect(sessions).toHaveLength(1);
    // Read after a clean end, the signal is made then, once, and not aborted.
    expect(onRpc.signal).toBe(onRpc.signal);
    expect(onRpc.signal.aborted).toBe(false);
  });

  it('gives a handler that reads ctx.signal after a timeout an aborted signal', async () => {
    const seen: AbortSignal[] = [];
    let release = () => undefined as void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const late = defineTool({
      name: 'late',
      title: 'Late',
      description: 'Reads its signal late.',
      toolset: 'read',
      input: z.object({}),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: async (_input, ctx) => {
        await released;
        seen.push(ctx.signal);
        return {};
      },
    });
    const config = loadConfig(echoService.config, { MCP_TOOL_TIMEOUT_MS: '100' });
    const r = new ToolRegistry({ service: 'echo', tools: [late], toolsets: echoService.toolsets, config, deps: {} });
    const outcome = await call(r, 'late', {});
    expect(outcome.errorCode).toBe('TIMEOUT');
    release();
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]!.aborted).toBe(true);
    expect((seen[0]!.reason as Error).message).toBe('late timed out after 100 ms');
  });
});

describe('withContent', () => {
  it('sends attached blocks as content and keeps them out of structuredContent', async () => {
    const media = defineTool({
      name: 'get_media',
      title: 'Media',
      description: 'Returns bytes beside a small summary.',
      toolset: 'read',
      input: z.object({}),
      output: z.object({ size: z.number() }),
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
      handler: async () => withContent({ size: 3 }, [{ type: 'image', data: 'AAEC', mimeType: 'image/png' }]),
    });
    const config = loadConfig(echoService.config, { MCP_DEBUG: 'true' });
    const r = new ToolRegistry({ service: 'x', tools: [media], toolsets: echoService.toolsets, config, deps: {} });
    const { result } = await call(r, 'get_media', {});
    expect(result.structuredContent).toEqual({ size: 3 });
    expect(JSON.stringify(result.structuredContent)).not.toContain('AAEC');
    expect(result.content).toEqual([{ type: 'image', data: 'AAEC', mimeType: 'image/png' }]);
  });
});

describe('mapError', () => {
  class DomainError extends Error {}
  const boom = defineTool({
    name: 'boom',
    title: 'Boom',
    description: 'Throws a domain error or a plain one.',
    toolset: 'read',
    input: z.object({ domain: z.boolean() }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    handler: async ({ domain }) => {
      throw domain ? new DomainError('row 7 is locked') : new Error('driver detail');
    },
  });
  const r = new ToolRegistry({
    service: 'x',
    tools: [boom],
    toolsets: echoService.toolsets,
    config: loadConfig(echoService.config, {}),
    deps: {},
    mapError: (error) => (error instanceof DomainError ? new ServiceError('CONFLICT', error.message) : undefined),
  });

  it("turns the service's domain errors into ServiceErrors and leaves the rest internal", async () => {
    const mapped = await call(r, 'boom', { domain: true });
    expect(mapped.errorCode).toBe('CONFLICT');
    expect(mapped.result.content).toEqual([{ type: 'text', text: 'row 7 is locked' }]);
    const other = await call(r, 'boom', { domain: false });
    expect(other.errorCode).toBe('INTERNAL');
    expect(other.result.content).toEqual([{ type: 'text', text: 'Internal error' }]);
  });
});

describe('the result byte limit (MCP_MAX_RESULT_BYTES)', () => {
  const big = defineTool({
    name: 'big',
    title: 'Big',
    description: 'Returns as many bytes as asked, as JSON or as an image block.',
    toolset: 'read',
    input: z.object({ bytes: z.number().int(), image: z.boolean().default(false) }),
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    handler: async ({ bytes, image }) =>
      image
        ? withContent({ ok: true }, [{ type: 'image', data: 'A'.repeat(bytes), mimeType: 'image/png' }])
        : { text: 'x'.repeat(bytes) },
  });
  const r = new ToolRegistry({
    service: 'x',
    tools: [big],
    toolsets: echoService.toolsets,
    config: loadConfig(echoService.config, { MCP_MAX_RESULT_BYTES: String(64 * 1024) }),
    deps: {},
  });

  it('passes an answer at the limit and refuses one byte more, for JSON and for content blocks', async () => {
    // {"text":"…"} is 11 bytes of JSON around the string.
    expect((await call(r, 'big', { bytes: 64 * 1024 - 11 })).errorCode).toBeUndefined();
    const over = await call(r, 'big', { bytes: 64 * 1024 - 10 });
    expect(over.errorCode).toBe('RESULT_TOO_LARGE');
    expect(over.result).toEqual({
      content: [
        {
          type: 'text',
          text:
            'The result of big is too large (65537 bytes; the limit is 65536, MCP_MAX_RESULT_BYTES): ask for less ' +
            '(fewer rows, a smaller range or a narrower pattern)',
        },
      ],
      isError: true,
    });
    expect((await call(r, 'big', { bytes: 64 * 1024, image: true })).errorCode).toBeUndefined();
    expect((await call(r, 'big', { bytes: 64 * 1024 + 1, image: true })).errorCode).toBe('RESULT_TOO_LARGE');
  });
});

describe('defineService', () => {
  it("reads the version from the service's package.json", () => {
    const { version, ...rest } = echoService;
    const service = defineService({ ...rest, packageJson: new URL('../package.json', import.meta.url) });
    expect(service.version).toBe('0.1.0');
    expect(version).toBe('1.2.3');
    expect(() => defineService({ ...rest, packageJson: new URL('./no-such-package.json', import.meta.url) })).toThrow(
      /ENOENT/,
    );
  });
});

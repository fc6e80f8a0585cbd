import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { serviceMain } from '../processes.js';
import { CORE_PATHS, sessionWorker, type Target, type ToolCall } from '../targets.js';
import { coreEnv, processServer, type SectionContext } from './core.js';

/**
 * read_file of a 4 KiB text file: the filesystem service over /sse and /mcp next to the official
 * @modelcontextprotocol/server-filesystem behind supergateway (SSE, and stateful Streamable HTTP:
 * one child server per session; the stateless default spawns a child per request and would be
 * far slower still). Every server runs as built JavaScript with plain node.
 */
export interface FilesystemSection {
  groups: Target[][];
  /** Why the section cannot run, when it cannot. */
  unavailable?: string;
  cleanup(): void;
}

const FILE_BYTES = 4096;

/** 64 lines of 63 characters and a newline: 4096 bytes of plain text. */
function fileText(): string {
  const filler = 'The quick brown fox jumps over the lazy dog. '.repeat(2);
  return Array.from({ length: 64 }, (_, i) => `${`${String(i).padStart(2, '0')} ${filler}`.slice(0, 63)}\n`).join('');
}

export function filesystemTargets(ctx: SectionContext): FilesystemSection {
  // as its image runs it (package.json main: the bundle where the service has one)
  const main = path.join(ctx.root, serviceMain(ctx.root, 'filesystem'));
  if (!existsSync(main)) {
    return {
      groups: [],
      unavailable: `services/filesystem is not built (${path.relative(ctx.root, main)} is missing; run pnpm build)`,
      cleanup: () => undefined,
    };
  }
  const require = createRequire(path.join(ctx.root, 'bench', 'package.json'));
  const gateway = require.resolve('supergateway/dist/index.js');
  const official = path.join(
    path.dirname(require.resolve('@modelcontextprotocol/server-filesystem/package.json')),
    'dist',
    'index.js',
  );

  const dir = mkdtempSync(path.join(tmpdir(), 'mcp-bench-fs-'));
  const file = path.join(dir, 'four-kib.txt');
  const text = fileText();
  if (Buffer.byteLength(text) !== FILE_BYTES) throw new Error('bench file is not 4 KiB');
  writeFileSync(file, text);

  const call: ToolCall = {
    name: 'read_file',
    args: { path: file },
    check(result) {
      const structured = result['structuredContent'] as { content?: unknown } | undefined;
      if (structured?.content !== text) {
        throw new Error(`read_file: unexpected result ${JSON.stringify(result).slice(0, 200)}`);
      }
    },
  };
  const ours = processServer(ctx, 'filesystem', () => [main], { ...coreEnv, ALLOWED_PATHS: `${dir}:ro` });
  const child = `${process.execPath} ${official} ${dir}`;
  // supergateway's own default log level (info: a line per message) goes to /dev/null like ours.
  const viaGateway = (transport: 'sse' | 'streamableHttp') =>
    processServer(
      ctx,
      `supergateway-${transport}`,
      (port) => [
        gateway,
        '--stdio',
        child,
        '--outputTransport',
        transport,
        '--port',
        String(port),
        ...(transport === 'streamableHttp' ? ['--stateful'] : []),
      ],
      {},
      30_000,
    );
  const section = 'filesystem';
  return {
    groups: [
      [
        {
          id: 'filesystem/sse/session',
          section,
          label: 'filesystem /sse read_file',
          transport: 'sse',
          shape: 'session',
          start: ours,
          createWorker: sessionWorker('sse', CORE_PATHS, call),
        },
        {
          id: 'supergateway/sse/session',
          section,
          label: 'supergateway SSE read_file',
          transport: 'sse',
          shape: 'session',
          start: viaGateway('sse'),
          createWorker: sessionWorker('sse', CORE_PATHS, call),
        },
      ],
      [
        {
          id: 'filesystem/streamable-http/session',
          section,
          label: 'filesystem /mcp read_file',
          transport: 'streamable-http',
          shape: 'session',
          start: ours,
          createWorker: sessionWorker('streamable-http', CORE_PATHS, call),
        },
        {
          id: 'supergateway/streamable-http/session',
          section,
          label: 'supergateway streamable read_file',
          transport: 'streamable-http',
          shape: 'session',
          start: viaGateway('streamableHttp'),
          createWorker: sessionWorker('streamable-http', CORE_PATHS, call),
        },
      ],
    ],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Every tool through the real service, over /sse and /mcp with the official SDK client, against
 * real temporary directories; plus /rpc, /health and the tool list under different root modes.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { type ClientTransportKind, connectClient, rpc, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { type Layout, makeLayout } from './helpers/sandbox.js';

interface CallResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: { type: string; text?: string; data?: string; mimeType?: string }[];
}

const WRITE_TOOLS = ['write_file', 'edit_file', 'create_directory', 'move_file', 'copy_file', 'delete_path'];
const READ_TOOLS = [
  'list_allowed_directories',
  'list_directory',
  'directory_tree',
  'get_file_info',
  'read_file',
  'read_multiple_files',
  'read_media_file',
  'search_files',
  'grep_files',
];

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('filesystem service over %s', (kind) => {
  let layout: Layout;
  let svc: StartedService;
  let client: Client;

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallResult;

  const ok = async (name: string, args: Record<string, unknown> = {}) => {
    const result = await call(name, args);
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    return result.structuredContent as Record<string, unknown>;
  };

  const fails = async (name: string, args: Record<string, unknown>) => {
    const result = await call(name, args);
    expect(result.isError).toBe(true);
    return result.content[0]?.text ?? '';
  };

  const ws = (...parts: string[]) => path.join(layout.ws, ...parts);

  beforeAll(async () => {
    layout = await makeLayout();
    svc = await startService(service, {
      env: {
        ALLOWED_PATHS: `${layout.ws}:rw,${layout.ro}:ro`,
        FS_MAX_FILE_BYTES: '65536',
        FS_MAX_READ_BYTES: '4096',
      },
    });
    client = await connectClient(svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    await layout.cleanup();
  });

  it('lists all fifteen tools with schemas and annotations', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([...READ_TOOLS, ...WRITE_TOOLS].sort());
    for (const tool of tools) {
      expect(tool.annotations?.readOnlyHint).toBe(READ_TOOLS.includes(tool.name));
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.outputSchema?.type).toBe('object');
    }
  });

  it('list_allowed_directories', async () => {
    const result = await call('list_allowed_directories');
    expect(result.structuredContent).toEqual({
      directories: [
        { path: layout.ws, mode: 'rw' },
        { path: layout.ro, mode: 'ro' },
      ],
    });
    // Clients that only read `content` get the same JSON as text.
    expect(JSON.parse(result.content[0]?.text ?? '')).toEqual(result.structuredContent);
  });

  it('list_directory', async () => {
    const result = await ok('list_directory', { path: 'notes', sizes: true, sort_by: 'size' });
    expect(result).toEqual({
      path: ws('notes'),
      entries: [
        { name: 'a.md', type: 'file', size: 15 },
        { name: 'b.txt', type: 'file', size: 5 },
      ],
      total_size: 20,
      truncated: false,
    });
  });

  it('directory_tree', async () => {
    const result = await ok('directory_tree', { path: layout.ro, max_depth: 2 });
    expect(result).toEqual({
      path: layout.ro,
      tree: {
        name: 'ro',
        type: 'directory',
        children: [
          { name: 'link-to-ws', type: 'symlink' },
          { name: 'readme.txt', type: 'file' },
        ],
      },
      truncated: false,
    });
    expect(await fails('directory_tree', { path: '.', max_depth: 0 })).toContain('max_depth');
  });

  it('get_file_info', async () => {
    const result = await ok('get_file_info', { path: 'hello.txt' });
    expect(result).toMatchObject({ path: ws('hello.txt'), type: 'file', size: 12, writable: true });
  });

  it('read_file', async () => {
    expect(await ok('read_file', { path: 'hello.txt', offset: 2, limit: 1 })).toEqual({
      path: ws('hello.txt'),
      content: 'world\n',
      start_line: 2,
      end_line: 2,
      total_lines: 2,
      truncated: false,
    });
    expect((await ok('read_file', { path: 'hello.txt', tail: 1 }))['content']).toBe('world\n');
    expect(await fails('read_file', { path: 'missing.txt' })).toBe('Not found: "missing.txt"');
  });

  it('read_multiple_files', async () => {
    const result = await ok('read_multiple_files', { paths: ['hello.txt', 'missing.txt'] });
    expect(result).toEqual({
      files: [
        { path: 'hello.txt', content: 'hello\nworld\n', truncated: false },
        { path: 'missing.txt', error: 'Not found: "missing.txt"' },
      ],
    });
  });

  it('read_media_file returns an image block; structuredContent stays small', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d494844520000000100000001', 'hex');
    await writeFile(ws('dot.png'), png);
    const result = await call('read_media_file', { path: 'dot.png' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ path: ws('dot.png'), mime_type: 'image/png', size: png.length });
    expect(result.content[1]).toEqual({ type: 'image', data: png.toString('base64'), mimeType: 'image/png' });
    await writeFile(ws('beep.wav'), Buffer.from('RIFF0000WAVE'));
    const audio = await call('read_media_file', { path: 'beep.wav' });
    expect(audio.content[1]).toMatchObject({ type: 'audio', mimeType: 'audio/wav' });
  });

  it('search_files', async () => {
    const result = await ok('search_files', { path: '.', pattern: '*.md', exclude: ['dot.png'] });
    expect(result).toEqual({ path: layout.ws, matches: [{ path: ws('notes/a.md'), type: 'file' }], truncated: false });
  });

  it('grep_files', async () => {
    const result = await ok('grep_files', {
      path: '.',
      regex: 'al.ha',
      glob: '*.md',
      context_lines: 1,
      max_matches: 5,
    });
    expect(result).toEqual({
      path: layout.ws,
      matches: [{ path: ws('notes/a.md'), line: 2, text: 'alpha line', before: ['# A'], after: [] }],
      files_searched: 1,
      files_skipped: 0,
      truncated: false,
    });
    expect(await fails('grep_files', { path: '.', regex: '(' })).toContain('Invalid regex');
  });

  it('write_file', async () => {
    expect(await ok('write_file', { path: `${kind}/out.txt`, content: 'written' })).toEqual({
      path: ws(kind, 'out.txt'),
      bytes_written: 7,
      created: true,
    });
    expect(await readFile(ws(kind, 'out.txt'), 'utf8')).toBe('written');
    expect(await fails('write_file', { path: path.join(layout.ro, 'x.txt'), content: 'x' })).toContain(
      'is in a read-only directory',
    );
    expect(await fails('write_file', { path: 'big.txt', content: 'x'.repeat(65537) })).toContain('FS_MAX_FILE_BYTES');
  });

  it('edit_file', async () => {
    await writeFile(ws(`${kind}-edit.txt`), 'one\ntwo\n');
    const preview = await ok('edit_file', {
      path: `${kind}-edit.txt`,
      edits: [{ old_text: 'two', new_text: 'deux' }],
      dry_run: true,
    });
    expect(preview['applied']).toBe(false);
    expect(preview['diff']).toContain('+deux');
    expect(await readFile(ws(`${kind}-edit.txt`), 'utf8')).toBe('one\ntwo\n');
    const applied = await ok('edit_file', { path: `${kind}-edit.txt`, edits: [{ old_text: 'two', new_text: 'deux' }] });
    expect(applied['applied']).toBe(true);
    expect(await readFile(ws(`${kind}-edit.txt`), 'utf8')).toBe('one\ndeux\n');
    expect(
      await fails('edit_file', { path: `${kind}-edit.txt`, edits: [{ old_text: 'absent', new_text: 'x' }] }),
    ).toContain('edits[0].old_text was not found');
  });

  it('create_directory', async () => {
    expect(await ok('create_directory', { path: `${kind}-dir/a/b` })).toEqual({
      path: ws(`${kind}-dir/a/b`),
      created: true,
    });
    expect((await stat(ws(`${kind}-dir/a/b`))).isDirectory()).toBe(true);
  });

  it('move_file', async () => {
    await writeFile(ws(`${kind}-move.txt`), 'moving');
    expect(await ok('move_file', { source: `${kind}-move.txt`, destination: `${kind}-moved/m.txt` })).toEqual({
      source: ws(`${kind}-move.txt`),
      destination: ws(`${kind}-moved/m.txt`),
    });
    expect(await readFile(ws(`${kind}-moved/m.txt`), 'utf8')).toBe('moving');
    expect(await fails('move_file', { source: 'hello.txt', destination: 'notes/a.md' })).toContain('already exists');
  });

  it('copy_file', async () => {
    expect(
      await ok('copy_file', { source: path.join(layout.ro, 'readme.txt'), destination: `${kind}-copy.txt` }),
    ).toEqual({
      source: path.join(layout.ro, 'readme.txt'),
      destination: ws(`${kind}-copy.txt`),
      bytes: 10,
    });
    expect(await readFile(ws(`${kind}-copy.txt`), 'utf8')).toBe('read only\n');
  });

  it('delete_path', async () => {
    await ok('create_directory', { path: `${kind}-del/inner` });
    expect(await fails('delete_path', { path: `${kind}-del` })).toContain('pass recursive: true');
    expect(await ok('delete_path', { path: `${kind}-del`, recursive: true })).toEqual({
      path: ws(`${kind}-del`),
      type: 'directory',
      removed: 2,
    });
    expect(await fails('delete_path', { path: '.' })).toContain('cannot be deleted');
  });

  it('invalid arguments come back as a readable tool error', async () => {
    expect(await fails('read_file', { path: '' })).toContain('Invalid arguments for read_file');
    expect(await fails('read_multiple_files', { paths: [] })).toContain('paths');
  });
});

describe('filesystem service: plain HTTP, health and root modes', () => {
  let layout: Layout;

  beforeAll(async () => {
    layout = await makeLayout();
  });
  afterAll(async () => {
    await layout.cleanup();
  });

  it('answers tools/call over /rpc and reports its roots in /health', async () => {
    const svc = await startService(service, { env: { ALLOWED_PATHS: `${layout.ws}:rw` } });
    try {
      const response = await rpc(svc.url, 'tools/call', { name: 'read_file', arguments: { path: 'hello.txt' } });
      expect(response.status).toBe(200);
      const body = response.body as { result: { structuredContent: { content: string } } };
      expect(body.result.structuredContent.content).toBe('hello\nworld\n');
      const health = await fetch(new URL('/health', svc.url));
      expect(health.status).toBe(200);
      expect(JSON.stringify(await health.json())).toContain('roots');
    } finally {
      await svc.close();
    }
  });

  it('has no write tools when every root is read-only, a mode-less root included', async () => {
    const svc = await startService(service, { env: { ALLOWED_PATHS: `${layout.ws}:ro,${layout.ro}` } });
    try {
      const response = await rpc(svc.url, 'tools/list');
      const names = (response.body as { result: { tools: { name: string }[] } }).result.tools.map((tool) => tool.name);
      expect(names.sort()).toEqual([...READ_TOOLS].sort());
      const write = await rpc(svc.url, 'tools/call', { name: 'write_file', arguments: { path: 'x', content: 'x' } });
      expect(JSON.stringify(write.body)).toContain('Unknown tool: write_file');
    } finally {
      await svc.close();
    }
  });

  it('creates the default-style read-write root at start when it is missing', async () => {
    const fresh = path.join(layout.base, 'data', 'workspace');
    const svc = await startService(service, { env: { ALLOWED_PATHS: `${fresh}:rw` } });
    try {
      expect((await stat(fresh)).isDirectory()).toBe(true);
    } finally {
      await svc.close();
    }
  });

  it('refuses to start on a missing read-only root', async () => {
    await expect(startService(service, { env: { ALLOWED_PATHS: path.join(layout.base, 'absent') } })).rejects.toThrow(
      'cannot be used',
    );
  });
});

/**
 * Escape attempts through the real service, over /sse and /mcp: sibling prefixes, `..`, symlinks to
 * files and directories outside, dangling symlinks, NUL bytes, absolute paths elsewhere and writes
 * to read-only roots. After every attempt the canary directories (outside, the prefix sibling and
 * the read-only root) are fingerprinted: no byte changed, nothing created or deleted, and no file
 * read or directory listed (access times). No reply may carry the canary secret.
 * The check-then-use races are in races.test.ts (they need the domain's test hooks).
 */
import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { service } from '../src/service.js';
import { differences, type Fingerprint, fingerprint, type Layout, makeLayout, SECRET } from './helpers/sandbox.js';

interface Attempt {
  tool: string;
  args: Record<string, unknown>;
}

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('escape attempts over %s', (kind) => {
  let layout: Layout;
  let svc: StartedService;
  let client: Client;
  let before: Record<'outside' | 'sibling' | 'ro', Fingerprint>;
  const replies: string[] = [];

  beforeAll(async () => {
    layout = await makeLayout();
    svc = await startService(service, { env: { ALLOWED_PATHS: `${layout.ws}:rw,${layout.ro}:ro` } });
    client = await connectClient(svc.url, kind);
  });

  afterAll(async () => {
    await client.close();
    await svc.close();
    await layout.cleanup();
  });

  beforeEach(async () => {
    before = {
      outside: await fingerprint(layout.outside),
      sibling: await fingerprint(layout.sibling),
      ro: await fingerprint(layout.ro),
    };
  });

  afterEach(async () => {
    expect(await differences(layout.outside, before.outside)).toEqual([]);
    expect(await differences(layout.sibling, before.sibling)).toEqual([]);
    expect(await differences(layout.ro, before.ro)).toEqual([]);
    for (const reply of replies.splice(0)) expect(reply).not.toContain(SECRET);
  });

  const attempt = async ({ tool, args }: Attempt) => {
    const result = (await client.callTool({ name: tool, arguments: args })) as {
      isError?: boolean;
      content: { text?: string }[];
    };
    const text = JSON.stringify(result);
    replies.push(text);
    return { isError: result.isError === true, message: result.content[0]?.text ?? '', text };
  };

  /** Every attempt must fail with a message that names only the input (never a resolved location). */
  const refuseAll = async (attempts: Attempt[], expected: RegExp) => {
    for (const one of attempts) {
      const { isError, message } = await attempt(one);
      expect(isError, `${one.tool} ${JSON.stringify(one.args)}`).toBe(true);
      expect(message, `${one.tool} ${JSON.stringify(one.args)}`).toMatch(expected);
      // Once the caller's own inputs are taken out, nothing on the disk may be named.
      let rest = message;
      for (const value of Object.values(one.args)) {
        if (typeof value === 'string') rest = rest.replaceAll(JSON.stringify(value), '');
      }
      expect(rest, message).not.toContain(layout.base);
    }
  };

  const readTargets = () => [
    '../outside/secret.txt',
    'notes/../../outside/secret.txt',
    path.join(layout.outside, 'secret.txt'),
    `${layout.ws}/../outside/secret.txt`,
    path.join(layout.sibling, 'secret.txt'),
    `${layout.ws}2/secret.txt`,
    'link-out-file',
    'link-out-dir/secret.txt',
    'link-out-dir/deep/secret.md',
    'dangling-out',
    `/proc/self/root${layout.outside}/secret.txt`,
    '/etc/passwd',
  ];

  it('reads of files outside: `..`, absolute paths, sibling prefix, links, dangling links', async () => {
    await refuseAll(
      readTargets().map((target) => ({ tool: 'read_file', args: { path: target } })),
      /outside the allowed directories/,
    );
    await refuseAll(
      readTargets().map((target) => ({ tool: 'get_file_info', args: { path: target } })),
      /outside the allowed directories/,
    );
    await refuseAll(
      [
        { tool: 'read_media_file', args: { path: 'link-out-dir/deep/image.png' } },
        { tool: 'read_media_file', args: { path: path.join(layout.outside, 'deep', 'image.png') } },
      ],
      /outside the allowed directories/,
    );
  });

  it('a batch read fails each outside file on its own and leaks nothing', async () => {
    const { isError, message } = await attempt({
      tool: 'read_multiple_files',
      args: { paths: [...readTargets(), 'hello.txt'] },
    });
    expect(isError).toBe(false);
    const { files } = JSON.parse(message) as { files: { path: string; content?: string; error?: string }[] };
    expect(files.at(-1)).toEqual({ path: 'hello.txt', content: 'hello\nworld\n', truncated: false });
    for (const file of files.slice(0, -1)) {
      expect(file.error).toBe(`Access denied: ${JSON.stringify(file.path)} is outside the allowed directories`);
      expect(file.content).toBeUndefined();
    }
  });

  it('listings, trees and searches of directories outside', async () => {
    const dirs = [
      '..',
      layout.outside,
      layout.sibling,
      `${layout.ws}2`,
      'link-out-dir',
      'link-out-dir/deep',
      layout.base,
    ];
    await refuseAll(
      dirs.map((dir) => ({ tool: 'list_directory', args: { path: dir } })),
      /outside the allowed directories/,
    );
    await refuseAll(
      dirs.map((dir) => ({ tool: 'directory_tree', args: { path: dir, max_depth: 3 } })),
      /outside the allowed directories/,
    );
    await refuseAll(
      dirs.map((dir) => ({ tool: 'search_files', args: { path: dir, pattern: '*' } })),
      /outside the allowed directories/,
    );
    await refuseAll(
      [...dirs, 'link-out-file'].map((dir) => ({ tool: 'grep_files', args: { path: dir, regex: 'CANARY' } })),
      /outside the allowed directories/,
    );
  });

  it('recursive walks inside never follow links out', async () => {
    const tree = await attempt({ tool: 'directory_tree', args: { path: '.', max_depth: 10 } });
    expect(tree.isError).toBe(false);
    const search = await attempt({ tool: 'search_files', args: { path: '.', pattern: '*secret*' } });
    expect(search.text).toContain('"matches":[]');
    const grep = await attempt({ tool: 'grep_files', args: { path: '.', regex: 'CANARY' } });
    expect(grep.text).toContain('"matches":[]');
  });

  it('NUL bytes are refused before the disk is touched', async () => {
    await refuseAll(
      [
        { tool: 'read_file', args: { path: 'hello.txt\0../../outside/secret.txt' } },
        { tool: 'write_file', args: { path: 'new.txt\0', content: 'x' } },
        { tool: 'list_directory', args: { path: '\0' } },
        { tool: 'delete_path', args: { path: 'notes\0/../../outside' } },
      ],
      /NUL byte/,
    );
  });

  it('writes into directories outside, through links, dangling links and `..`', async () => {
    await refuseAll(
      [
        { tool: 'write_file', args: { path: 'link-out-file', content: 'pwned' } },
        { tool: 'write_file', args: { path: 'link-out-dir/planted.txt', content: 'pwned' } },
        { tool: 'write_file', args: { path: 'dangling-out', content: 'pwned' } },
        { tool: 'write_file', args: { path: '../outside/planted.txt', content: 'pwned' } },
        { tool: 'write_file', args: { path: `${layout.ws}2/planted.txt`, content: 'pwned' } },
        { tool: 'edit_file', args: { path: 'link-out-file', edits: [{ old_text: 'CANARY', new_text: 'x' }] } },
        { tool: 'create_directory', args: { path: 'link-out-dir/newdir' } },
        { tool: 'create_directory', args: { path: 'dangling-out/sub' } },
        { tool: 'create_directory', args: { path: '../outside/newdir' } },
        { tool: 'move_file', args: { source: 'link-out-dir/secret.txt', destination: 'stolen.txt' } },
        { tool: 'move_file', args: { source: 'hello.txt', destination: 'link-out-dir/planted.txt' } },
        { tool: 'move_file', args: { source: 'hello.txt', destination: `${layout.ws}2/planted.txt` } },
        { tool: 'copy_file', args: { source: 'link-out-file', destination: 'stolen.txt' } },
        { tool: 'copy_file', args: { source: 'hello.txt', destination: 'link-out-dir/planted.txt' } },
        { tool: 'delete_path', args: { path: 'link-out-dir/secret.txt' } },
        { tool: 'delete_path', args: { path: '../outside', recursive: true } },
        { tool: 'delete_path', args: { path: `${layout.ws}2`, recursive: true } },
      ],
      /outside the allowed directories/,
    );
    // A dangling link is an existing name: copying onto it is refused, never creating its target.
    await refuseAll(
      [{ tool: 'copy_file', args: { source: 'hello.txt', destination: 'dangling-out' } }],
      /already exists/,
    );
    await expect(lstat(path.join(layout.ws, 'stolen.txt'))).rejects.toThrow('ENOENT');
    expect(await readFile(path.join(layout.ws, 'hello.txt'), 'utf8')).toBe('hello\nworld\n');
  });

  it('writes to the read-only root are refused, whatever the tool', async () => {
    const readme = path.join(layout.ro, 'readme.txt');
    await refuseAll(
      [
        { tool: 'write_file', args: { path: readme, content: 'x' } },
        { tool: 'write_file', args: { path: path.join(layout.ro, 'new.txt'), content: 'x' } },
        { tool: 'edit_file', args: { path: readme, edits: [{ old_text: 'read', new_text: 'write' }] } },
        { tool: 'edit_file', args: { path: readme, edits: [{ old_text: 'read', new_text: 'write' }], dry_run: true } },
        { tool: 'create_directory', args: { path: path.join(layout.ro, 'dir') } },
        { tool: 'move_file', args: { source: readme, destination: 'taken.txt' } },
        { tool: 'move_file', args: { source: 'hello.txt', destination: path.join(layout.ro, 'x.txt') } },
        { tool: 'copy_file', args: { source: 'hello.txt', destination: path.join(layout.ro, 'x.txt') } },
        { tool: 'delete_path', args: { path: readme } },
        { tool: 'delete_path', args: { path: path.join(layout.ro, 'link-to-ws') } },
      ],
      /is in a read-only directory/,
    );
  });

  it('deleting or moving a link out touches only the link', async () => {
    const moved = await attempt({ tool: 'move_file', args: { source: 'link-out-file', destination: `${kind}-link` } });
    expect(moved.isError).toBe(false);
    expect(await readlink(path.join(layout.ws, `${kind}-link`))).toBe(path.join(layout.outside, 'secret.txt'));
    const removed = await attempt({ tool: 'delete_path', args: { path: `${kind}-link` } });
    expect(removed.text).toContain('"type":"symlink"');
    const dir = await attempt({ tool: 'delete_path', args: { path: 'link-out-dir', recursive: true } });
    expect(dir.text).toContain('"removed":1');
  });
});

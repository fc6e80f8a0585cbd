/**
 * Hard links: a second name, inside a root, for a file outside every root. Nothing in the file says
 * where its other names are, so by default a regular file with more than one link is neither read
 * nor replaced (FS_ALLOW_HARDLINKS=false). Every read and write tool is tried through the real
 * service; the canary directory (content, modes, sizes, access times) and the sandbox are compared
 * before and after. The swap race (a file replaced by a hard link after the path was checked) is
 * closed because the count comes from fstat of the descriptor that is then read.
 */
import { link, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { FileService } from '../src/file-service.js';
import { FsError } from '../src/path-guard.js';
import { service } from '../src/service.js';
import { differences, type Fingerprint, fingerprint, type Layout, makeLayout, SECRET } from './helpers/sandbox.js';

interface Reply {
  isError: boolean;
  text: string;
}

const HINT = 'files with more than one link are refused';

/** Adds hard links inside the rw root to the outside canary, and one pair of links inside. */
async function plantLinks(layout: Layout): Promise<void> {
  await link(path.join(layout.outside, 'secret.txt'), path.join(layout.ws, 'hard-out.txt'));
  await link(path.join(layout.outside, 'deep', 'image.png'), path.join(layout.ws, 'hard-out.png'));
  await link(path.join(layout.outside, 'deep', 'secret.md'), path.join(layout.ws, 'notes', 'hard-deep.md'));
}

describe.each<ClientTransportKind>(['sse', 'streamable-http'])('hard links over %s', (kind) => {
  let layout: Layout;
  let svc: StartedService;
  let client: Client;
  let before: { outside: Fingerprint; ws: Fingerprint };
  const replies: string[] = [];

  beforeAll(async () => {
    layout = await makeLayout();
    await plantLinks(layout);
    svc = await startService(service, { env: { ALLOWED_PATHS: `${layout.ws}:rw,${layout.ro}:ro` } });
    client = await connectClient(svc.url, kind);
  });
  afterAll(async () => {
    await client.close();
    await svc.close();
    await layout.cleanup();
  });
  beforeEach(async () => {
    before = { outside: await fingerprint(layout.outside), ws: await fingerprint(layout.ws) };
  });
  afterEach(async () => {
    expect(await differences(layout.outside, before.outside)).toEqual([]);
    // Reads and listings inside the sandbox are fine; nothing in it may change.
    const changed = (await differences(layout.ws, before.ws)).filter((diff) => !/ read$| listed$/.test(diff));
    expect(changed).toEqual([]);
    for (const reply of replies.splice(0)) expect(reply).not.toContain(SECRET);
  });

  const call = async (name: string, args: Record<string, unknown>): Promise<Reply> => {
    const result = (await client.callTool({ name, arguments: args })) as {
      isError?: boolean;
      content: { text?: string }[];
    };
    const text = JSON.stringify(result);
    replies.push(text);
    return { isError: result.isError === true, text: result.content[0]?.text ?? '' };
  };

  it('every tool that reads content refuses a multiply-linked file', async () => {
    const attempts: [string, Record<string, unknown>][] = [
      ['read_file', { path: 'hard-out.txt' }],
      ['read_file', { path: 'hard-out.txt', tail: 1 }],
      ['read_file', { path: `${layout.ws}/notes/../hard-out.txt` }],
      ['read_file', { path: 'notes/hard-deep.md' }],
      ['read_media_file', { path: 'hard-out.png' }],
      ['get_file_info', { path: 'hard-out.txt' }],
      ['grep_files', { path: 'hard-out.txt', regex: 'CANARY' }],
      ['copy_file', { source: 'hard-out.txt', destination: `copy-${kind}.txt` }],
      ['edit_file', { path: 'hard-out.txt', edits: [{ old_text: 'CANARY', new_text: 'x' }] }],
      ['edit_file', { path: 'hard-out.txt', edits: [{ old_text: 'CANARY', new_text: 'x' }], dry_run: true }],
      ['write_file', { path: 'hard-out.txt', content: 'replaced' }],
      ['write_file', { path: 'notes/hard-deep.md', content: 'replaced' }],
    ];
    for (const [name, args] of attempts) {
      const reply = await call(name, args);
      expect(reply.isError, `${name} ${JSON.stringify(args)}`).toBe(true);
      expect(reply.text, name).toContain(HINT);
      expect(reply.text, name).toMatch(/^".*" has 2 hard links;/);
    }
  });

  it('batches and walks skip them without reading', async () => {
    const batch = await call('read_multiple_files', { paths: ['hard-out.txt', 'hello.txt'] });
    expect(batch.isError).toBe(false);
    const { files } = JSON.parse(batch.text) as { files: { path: string; content?: string; error?: string }[] };
    expect(files[0]?.error).toContain(HINT);
    expect(files[1]).toEqual({ path: 'hello.txt', content: 'hello\nworld\n', truncated: false });

    const grep = JSON.parse((await call('grep_files', { path: '.', regex: 'CANARY|hello' })).text) as {
      matches: { path: string }[];
      files_skipped: number;
    };
    expect(grep.matches.map((match) => path.basename(match.path))).toEqual(['hello.txt']);
    expect(grep.files_skipped).toBe(3);

    const listing = JSON.parse((await call('list_directory', { path: '.', sizes: true })).text) as {
      entries: { name: string; size?: number }[];
    };
    expect(listing.entries.find((entry) => entry.name === 'hard-out.txt')).toEqual({
      name: 'hard-out.txt',
      type: 'file',
    });
    expect(listing.entries.find((entry) => entry.name === 'hello.txt')).toEqual({
      name: 'hello.txt',
      type: 'file',
      size: 12,
    });
  });

  it('names-only operations still work on them (they never touch the content)', async () => {
    const moved = await call('move_file', { source: 'hard-out.txt', destination: `moved-${kind}.txt` });
    expect(moved.isError).toBe(false);
    await call('move_file', { source: `moved-${kind}.txt`, destination: 'hard-out.txt' });
    // Both moves together leave the sandbox as it was (afterEach compares it).
  });
});

describe('FS_ALLOW_HARDLINKS=true', () => {
  let layout: Layout;
  let svc: StartedService;
  let client: Client;

  beforeAll(async () => {
    layout = await makeLayout();
    await plantLinks(layout);
    svc = await startService(service, {
      env: { ALLOWED_PATHS: `${layout.ws}:rw`, FS_ALLOW_HARDLINKS: 'true' },
    });
    client = await connectClient(svc.url, 'streamable-http');
  });
  afterAll(async () => {
    await client.close();
    await svc.close();
    await layout.cleanup();
  });

  it('reads them, and a write replaces the link without writing into the other file', async () => {
    const read = await client.callTool({ name: 'read_file', arguments: { path: 'hard-out.txt' } });
    expect((read.structuredContent as { content: string }).content).toBe(`${SECRET}\n`);
    const outside = path.join(layout.outside, 'secret.txt');
    const before = await fingerprint(layout.outside);
    const written = await client.callTool({ name: 'write_file', arguments: { path: 'hard-out.txt', content: 'new' } });
    expect(written.isError).toBeFalsy();
    // rename() replaced the name: the outside file keeps its content and loses one link.
    // Checked before this test reads the file itself: not read, not changed, one link less.
    expect(await differences(layout.outside, before)).toEqual([]);
    expect((await stat(outside)).nlink).toBe(1);
    expect(await readFile(path.join(layout.ws, 'hard-out.txt'), 'utf8')).toBe('new');
    expect(await readFile(outside, 'utf8')).toBe(`${SECRET}\n`);
  });
});

describe('the link count is taken from the opened descriptor', () => {
  let layout: Layout;
  beforeEach(async () => {
    layout = await makeLayout();
  });
  afterEach(async () => {
    await layout.cleanup();
  });

  it.each([true, false])('a file swapped for a hard link after the check is refused (procFd=%s)', async (procFd) => {
    const target = path.join(layout.ws, 'hello.txt');
    let fired = false;
    const files = await FileService.create([{ path: layout.ws, mode: 'rw' }], {
      limits: { maxFileBytes: 4096, maxReadBytes: 4096 },
      procFd,
      hooks: {
        afterResolve: async (resolved) => {
          if (fired || !resolved.real.endsWith('hello.txt')) return;
          fired = true;
          // The path was checked as an ordinary file; now it is a second name for the canary.
          await unlink(target);
          await link(path.join(layout.outside, 'secret.txt'), `${target}.tmp`);
          await rename(`${target}.tmp`, target);
        },
      },
    });
    const before = await fingerprint(layout.outside);
    try {
      const error = await files.readFile('hello.txt').then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(FsError);
      expect((error as FsError).code).toBe('FORBIDDEN');
      expect((error as FsError).message).toContain(HINT);
      expect(fired).toBe(true);
    } finally {
      await files.close();
    }
    expect(await differences(layout.outside, before)).toEqual([]);
  });
});

/**
 * Every call's cost is bounded, and a bound that is hit says so (`truncated: true` with a reason):
 * entries read by a walk, its depth and time (an injected clock), and the answer's weight in bytes
 * of JSON (MCP_MAX_RESULT_BYTES), escapes included, for every tool that returns data. Each answer is
 * checked to weigh no more than the budget, which is what the core would otherwise refuse.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { FileService, type FileServiceOptions, MAX_LIST_ENTRIES, MAX_WALK_DEPTH } from '../src/file-service.js';
import { FsError } from '../src/path-guard.js';
import { jsonBytes } from '../src/result-budget.js';
import { type Layout, makeLayout } from './helpers/sandbox.js';

const RESULT_BYTES = 16 * 1024;

async function refusal(promise: Promise<unknown>): Promise<FsError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FsError);
  return error as FsError;
}

/** Creates `count` files named f00000… in `dir`, in batches. */
async function manyFiles(dir: string, count: number, content = ''): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) =>
      writeFile(path.join(dir, `f${String(start + i).padStart(5, '0')}.txt`), content),
    );
    await Promise.all(batch);
  }
}

describe('bounded cost', () => {
  let layout: Layout;
  const services: FileService[] = [];

  const open = async (
    options: Partial<FileServiceOptions> = {},
    limits: Partial<FileServiceOptions['limits']> = {},
  ) => {
    const files = await FileService.create([{ path: layout.ws, mode: 'rw' }], {
      limits: { maxFileBytes: 1024 * 1024, maxReadBytes: 1024 * 1024, maxResultBytes: RESULT_BYTES, ...limits },
      ...options,
    });
    services.push(files);
    return files;
  };

  beforeEach(async () => {
    layout = await makeLayout();
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((files) => files.close()));
    await layout.cleanup();
  });

  describe('answers stop at the byte budget', () => {
    beforeEach(async () => {
      // Long names, so that a few hundred entries outweigh 16 KiB.
      await mkdir(path.join(layout.ws, 'big'));
      await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          writeFile(path.join(layout.ws, 'big', `${'n'.repeat(60)}-${i}.md`), `needle ${i}\n`),
        ),
      );
    });

    it('directory_tree, search_files, list_directory, grep_files', async () => {
      const files = await open();
      const answers = [
        await files.directoryTree('big', 3),
        await files.searchFiles('big', '*.md'),
        await files.listDirectory('big'),
        await files.grepFiles('big', 'needle', { maxMatches: 1000 }),
      ];
      for (const answer of answers) {
        expect(answer.truncated).toBe(true);
        expect(answer.truncated_reason).toMatch(/^the answer reached the MCP_MAX_RESULT_BYTES budget \(16384 bytes\)/);
        expect(jsonBytes(answer)).toBeLessThanOrEqual(RESULT_BYTES);
        expect(jsonBytes(answer)).toBeGreaterThan(RESULT_BYTES / 2); // filled, not given up early
      }
    });

    it('read_file and read_multiple_files count JSON escapes, not just bytes', async () => {
      // Control characters weigh six bytes each in JSON: 8 KiB of them is 48 KiB of answer.
      await writeFile(path.join(layout.ws, 'controls.txt'), `${'\u0001'.repeat(8 * 1024)}\n`.repeat(4));
      await writeFile(path.join(layout.ws, 'quotes.txt'), '"\\'.repeat(20_000));
      const files = await open();
      for (const name of ['controls.txt', 'quotes.txt']) {
        const slice = await files.readFile(name);
        expect(slice.truncated, name).toBe(true);
        expect(jsonBytes(slice)).toBeLessThanOrEqual(RESULT_BYTES);
        const tail = await files.readFile(name, { tail: 2 });
        expect(tail.truncated, name).toBe(true);
        expect(jsonBytes(tail)).toBeLessThanOrEqual(RESULT_BYTES);
      }
      const batch = await files.readMultipleFiles(['controls.txt', 'quotes.txt', 'hello.txt', 'missing.txt']);
      expect(jsonBytes(batch)).toBeLessThanOrEqual(RESULT_BYTES);
      // Every path keeps its entry, in order, though the first file took (nearly) all the room.
      expect(batch.files.map((file) => file.path)).toEqual(['controls.txt', 'quotes.txt', 'hello.txt', 'missing.txt']);
      expect(batch.files.map((file) => file.truncated)).toEqual([true, true, true, true]);
    });

    it('read_media_file refuses, clearly, a file whose base64 would not fit', async () => {
      await writeFile(path.join(layout.ws, 'fits.png'), Buffer.alloc(8 * 1024, 7));
      await writeFile(path.join(layout.ws, 'big.png'), Buffer.alloc(13 * 1024, 7));
      const files = await open();
      expect((await files.readMediaFile('fits.png')).size).toBe(8 * 1024);
      const error = await refusal(files.readMediaFile('big.png'));
      expect(error.code).toBe('PAYLOAD_TOO_LARGE');
      expect(error.message).toBe(
        '"big.png" is 13312 bytes; as base64 (17752 bytes) it would not fit in an answer (MCP_MAX_RESULT_BYTES, 16384 bytes), so it is not sent',
      );
    });

    it('edit_file applies the edit and cuts only the diff it shows', async () => {
      // 100 changed lines: a cheap diff (200 edits) that weighs 40 KB, more than the 16 KiB budget.
      const lines = Array.from({ length: 100 }, (_, i) => `line ${i} ${'x'.repeat(190)}\n`).join('');
      await writeFile(path.join(layout.ws, 'long.txt'), lines);
      const files = await open();
      const edited = await files.editFile('long.txt', [{ old_text: lines, new_text: lines.toUpperCase() }]);
      expect(edited).toMatchObject({ applied: true, truncated: true });
      expect(edited.truncated_reason).toMatch(/MCP_MAX_RESULT_BYTES/);
      expect(edited.diff).toContain('@@ -1,100 +1,100 @@');
      expect(jsonBytes(edited)).toBeLessThanOrEqual(RESULT_BYTES);
      expect(await readFile(path.join(layout.ws, 'long.txt'), 'utf8')).toBe(lines.toUpperCase());
    });

    it('edit_file shows no diff, and says why, when the change is too large to diff cheaply', async () => {
      const lines = Array.from({ length: 3000 }, (_, i) => `${i}\n`).join('');
      await writeFile(path.join(layout.ws, 'many-lines.txt'), lines);
      const files = await open({}, { maxResultBytes: 4 * 1024 * 1024 });
      const edited = await files.editFile('many-lines.txt', [
        { old_text: lines, new_text: lines.replaceAll('\n', ';\n') },
      ]);
      expect(edited).toMatchObject({
        applied: true,
        diff: '',
        truncated: true,
        truncated_reason:
          'the change is too large to show as a diff (over 500 changed lines, or over 3000 ms to compute)',
      });
    });

    it('edit_file diffs only around the change, with the right line numbers', async () => {
      const lines = Array.from({ length: 50_000 }, (_, i) => `row ${i}\n`).join('');
      await writeFile(path.join(layout.ws, 'rows.txt'), lines);
      const files = await open({}, { maxResultBytes: 4 * 1024 * 1024 });
      const edited = await files.editFile('rows.txt', [{ old_text: 'row 30000\n', new_text: 'changed\n' }]);
      expect(edited.diff.slice(edited.diff.indexOf('@@'))).toBe(
        [
          '@@ -29997,9 +29997,9 @@',
          ' row 29996',
          ' row 29997',
          ' row 29998',
          ' row 29999',
          '-row 30000',
          '+changed',
          ' row 30001',
          ' row 30002',
          ' row 30003',
          ' row 30004',
          '',
        ].join('\n'),
      );
    });
  });

  it('a huge directory is read incrementally; the listing is its first names, in order', async () => {
    await manyFiles(path.join(layout.ws, 'huge'), MAX_LIST_ENTRIES + 1500);
    const files = await open({}, { maxResultBytes: 4 * 1024 * 1024 });
    const listing = await files.listDirectory('huge');
    expect(listing.entries).toHaveLength(MAX_LIST_ENTRIES);
    expect(listing.entries[0]?.name).toBe('f00000.txt');
    expect(listing.entries.at(-1)?.name).toBe(`f${String(MAX_LIST_ENTRIES - 1).padStart(5, '0')}.txt`);
    expect(listing.truncated_reason).toBe(
      `the directory has more than ${MAX_LIST_ENTRIES} entries; these are the first ${MAX_LIST_ENTRIES} by name`,
    );
  });

  it('a walk stops after the entries it may read, with the reason', async () => {
    await manyFiles(path.join(layout.ws, 'many'), 300);
    const files = await open({ maxWalkEntries: 120 });
    for (const answer of [
      await files.searchFiles('.', '*.txt'),
      await files.directoryTree('.', 5),
      await files.grepFiles('.', 'never'),
      await files.listDirectory('many'),
    ]) {
      expect(answer.truncated).toBe(true);
      expect(answer.truncated_reason).toBe(
        'stopped after reading 120 directory entries (the walk limit); narrow the path or the pattern',
      );
    }
  });

  it('a walk stops at its time limit (injected clock), with what it found so far', async () => {
    await manyFiles(path.join(layout.ws, 'many'), 50);
    let clock = 0;
    // Every look at the clock is a millisecond: the walk sees its 20 ms pass after a few entries.
    const files = await open({ now: () => (clock += 1) }, { walkTimeMs: 20 });
    const found = await files.searchFiles('many', '*.txt');
    expect(found.truncated).toBe(true);
    expect(found.truncated_reason).toBe('stopped after 20 ms (the walk time limit); narrow the path or the pattern');
    expect(found.matches.length).toBeGreaterThan(0);
    expect(found.matches.length).toBeLessThan(50);
  });

  it(`walks do not enter directories deeper than ${MAX_WALK_DEPTH} levels, and say so`, async () => {
    const deep = Array.from({ length: MAX_WALK_DEPTH + 6 }, () => 'd').join('/');
    await mkdir(path.join(layout.ws, deep), { recursive: true });
    await writeFile(path.join(layout.ws, deep, 'bottom.txt'), 'bottom\n');
    const files = await open({}, { maxResultBytes: 4 * 1024 * 1024 });
    const found = await files.searchFiles('.', 'd');
    expect(found.matches).toHaveLength(MAX_WALK_DEPTH);
    expect(found.truncated_reason).toBe(`directories deeper than ${MAX_WALK_DEPTH} levels were not entered`);
    const grep = await files.grepFiles('.', 'bottom');
    expect(grep.matches).toEqual([]);
    expect(grep.truncated).toBe(true);
  });

  it('globs over their limits are refused before anything is read', async () => {
    const files = await open();
    const issue = '{a,b}{c,d}{e,f}'.repeat(15);
    for (const call of [
      files.searchFiles('.', issue),
      files.searchFiles('.', '*', [issue]),
      files.directoryTree('.', 3, ['x', issue]),
      files.grepFiles('.', 'x', { glob: issue }),
      files.searchFiles('.', '+(a|aa)+(a|aa)+(a|aa)b'),
    ]) {
      const error = await refusal(call);
      expect(error.code).toBe('INVALID_INPUT');
      expect(error.message).toMatch(/more than 32 brace groups|Extended globs/);
    }
  });
});

/**
 * The escape and race suites rest on `differences` noticing a read, a listing, a write, a creation
 * and a deletion outside. This proves it does, so that an empty list there means something.
 */
import { appendFile, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { differences, fingerprint, type Layout, makeLayout } from './helpers/sandbox.js';

describe('canary fingerprint', () => {
  let layout: Layout;

  beforeEach(async () => {
    layout = await makeLayout();
  });
  afterEach(async () => {
    await layout.cleanup();
  });

  it('reports nothing when nothing happened, twice in a row', async () => {
    const before = await fingerprint(layout.outside);
    expect(await differences(layout.outside, before)).toEqual([]);
    expect(await differences(layout.outside, before)).toEqual([]);
  });

  it.each([
    ['a file read', (dir: string) => readFile(path.join(dir, 'deep', 'secret.md')), 'deep/secret.md read'],
    ['a listing', (dir: string) => readdir(path.join(dir, 'deep')), 'deep read'],
    ['a listing of the top', (dir: string) => readdir(dir), '(root) listed'],
    ['an append', (dir: string) => appendFile(path.join(dir, 'secret.txt'), 'x'), 'secret.txt size changed'],
    ['a new file', (dir: string) => writeFile(path.join(dir, 'planted'), ''), 'planted created'],
    ['a deletion', (dir: string) => rm(path.join(dir, 'secret.txt')), 'secret.txt deleted'],
  ])('notices %s', async (_name, act, expected) => {
    const before = await fingerprint(layout.outside);
    await act(layout.outside);
    expect(await differences(layout.outside, before)).toContain(expected);
  });

  it('notices rewritten content', async () => {
    const file = path.join(layout.outside, 'secret.txt');
    const before = await fingerprint(layout.outside);
    const original = await readFile(file, 'utf8');
    await writeFile(file, original.replace('C', 'X'));
    expect(await differences(layout.outside, before)).toContain('secret.txt content changed');
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { childEntry } from '../src/child-entry.js';

// The bundle's form (`<name>.bundle.js`) is chosen by the `bundled` constant, which only esbuild
// sets: services/{memory,sqlite}/test/bundle.test.ts show a bundle forking its entry's bundle.
describe('childEntry', () => {
  const dir = mkdtempSync(join(tmpdir(), 'child-entry-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("from tsc's files: the .js entry beside the module, with no flags", () => {
    const moduleUrl = pathToFileURL(join(dir, 'dist', 'worker-pool.js')).href;
    expect(childEntry(moduleUrl, 'worker-entry')).toEqual({
      path: join(dir, 'dist', 'worker-entry.js'),
      execArgv: [],
    });
  });

  it('from the .ts sources: the .ts entry, loaded through tsx by absolute URL', () => {
    const entry = childEntry(import.meta.url, 'query-entry');
    expect(entry.path).toBe(join(import.meta.dirname, 'query-entry.ts'));
    expect(entry.execArgv).toHaveLength(2);
    expect(entry.execArgv[0]).toBe('--import');
    expect(entry.execArgv[1]).toMatch(/^file:\/\/\/.*\/node_modules\/.*tsx\/.*\.mjs$/);
  });

  it('the flags load a .ts entry in a plain node child, whatever its working directory', () => {
    const source = join(dir, 'echo-entry.ts');
    writeFileSync(
      source,
      "const answer: number = 42;\nprocess.stdout.write(String(answer) + ':' + process.argv[2]);\n",
    );
    // A module outside the repository: tsx is found from the core, not from the caller.
    const entry = childEntry(pathToFileURL(join(dir, 'pool.ts')).href, 'echo-entry');
    expect(entry.path).toBe(source);
    const out = execFileSync(process.execPath, [...entry.execArgv, entry.path, 'argv'], { cwd: dir, env: {} });
    expect(out.toString()).toBe('42:argv');
  });
});

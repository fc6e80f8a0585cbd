/**
 * Every tool's arguments, generated from its own input schema (well-shaped with hostile strings,
 * and ill-shaped), sent through a real MCP client to the service run as a real process (writable).
 * The read-only tools first: the database (schema, every row) and the files around it must be
 * exactly as before. Then every tool: the writes may change rows, but no file may appear beside the
 * database (ATTACH, VACUUM INTO) and the process must stay healthy. FUZZ_RUNS / FUZZ_SEED: see the README's Testing section.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { fuzzService, fuzzSettings, isReadOnlyTool, startServiceProcess } from '@mcp-sse/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { dumpDatabase, tempDir } from './helpers.js';

const FILE = 'services/sqlite/test/tools.fuzz.test.ts';
const settings = fuzzSettings(8);
const entry = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const serviceDir = fileURLToPath(new URL('..', import.meta.url));
const tsconfig = fileURLToPath(new URL('./fixtures/tsconfig.source.json', import.meta.url));

const hints = {
  known: {
    table_name: ['users', 'posts', 'sqlite_master', 'missing'],
    $keys: ['id', 'email', 'role', 'user_id', 'title'],
    query: [
      'SELECT * FROM users',
      'SELECT count(*) AS n FROM posts WHERE user_id = 1',
      "INSERT INTO users (email) VALUES ('fuzz@x')",
      'DELETE FROM users',
      'PRAGMA table_info(users)',
    ],
    order_by: ['id', 'email DESC', 'role'],
  },
};

/** The files beside the database, less SQLite's own companions (-wal, -shm, -journal). */
function foreignFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !/^target\.db(-wal|-shm|-journal)?$/.test(name))
    .sort();
}

describe('sqlite tools under fuzzing', () => {
  let dir: string;
  let cleanup: () => void;
  let path: string;

  beforeAll(() => {
    ({ dir, cleanup } = tempDir());
    path = join(dir, 'target.db');
    const db = new Database(path);
    db.exec(
      'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, role TEXT); ' +
        'CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), title TEXT); ' +
        "INSERT INTO users (email, role) VALUES ('admin@x', 'admin'), ('guest@x', 'guest'); " +
        "INSERT INTO posts (user_id, title) VALUES (1, 'hello'), (2, 'world');",
    );
    db.close();
  });

  afterAll(() => cleanup());

  it('every tool answers in time and the process stays healthy; the read-only tools change nothing, and no file appears beside the database', async () => {
    const proc = await startServiceProcess(entry, {
      cwd: serviceDir,
      env: { DATABASE_PATH: path, TSX_TSCONFIG_PATH: tsconfig, MCP_RATE_LIMIT: '0', MCP_TOOL_TIMEOUT_MS: '20000' },
    });
    try {
      const reads = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        select: isReadOnlyTool,
        dump: async () => ({ database: dumpDatabase(path).text, files: foreignFiles(dir) }),
      });
      console.info(`sqlite read-only tools: ${reads.summary}`);
      const all = await fuzzService({
        service: proc,
        settings,
        file: FILE,
        hints,
        dump: async () => foreignFiles(dir),
      });
      console.info(`sqlite all tools: ${all.summary}`);
    } finally {
      await proc.stop('SIGKILL');
    }
  }, 180_000);
});

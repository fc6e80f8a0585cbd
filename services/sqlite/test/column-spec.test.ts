import { describe, expect, it } from 'vitest';

import { columnDefinitionSql, parseColumnSpec } from '../src/column-spec.js';
import { DatabaseError } from '../src/errors.js';

function sqlOf(spec: string, column = 'c'): string {
  return columnDefinitionSql(column, parseColumnSpec(column, spec));
}

function refusal(spec: string, column = 'c'): string {
  try {
    parseColumnSpec(column, spec);
  } catch (error) {
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).code).toBe('INVALID_INPUT');
    return (error as DatabaseError).message;
  }
  throw new Error(`expected ${JSON.stringify(spec)} to be refused`);
}

describe('parseColumnSpec accepts the restricted grammar', () => {
  it.each([
    ['TEXT', '"c" TEXT'],
    ['text not null', '"c" TEXT NOT NULL'],
    ['INTEGER PRIMARY KEY AUTOINCREMENT', '"c" INTEGER PRIMARY KEY AUTOINCREMENT'],
    ['integer primary key desc', '"c" INTEGER PRIMARY KEY DESC'],
    ['VARCHAR(255) UNIQUE', '"c" VARCHAR(255) UNIQUE'],
    ['DECIMAL(10, 2) DEFAULT 0', '"c" DECIMAL(10,2) DEFAULT 0'],
    ['REAL DEFAULT -1.5e3', '"c" REAL DEFAULT -1.5e3'],
    ['INTEGER DEFAULT +7', '"c" INTEGER DEFAULT 7'],
    ["TEXT DEFAULT 'it''s'", `"c" TEXT DEFAULT 'it''s'`],
    ["TEXT DEFAULT 'x''); DROP TABLE users; --'", `"c" TEXT DEFAULT 'x''); DROP TABLE users; --'`],
    ['TEXT NULL', '"c" TEXT NULL'],
    ['BOOLEAN NOT NULL DEFAULT FALSE', '"c" BOOLEAN NOT NULL DEFAULT FALSE'],
    ['DATETIME DEFAULT CURRENT_TIMESTAMP', '"c" DATETIME DEFAULT CURRENT_TIMESTAMP'],
    ['DATE DEFAULT current_date', '"c" DATE DEFAULT CURRENT_DATE'],
    ['TEXT COLLATE nocase', '"c" TEXT COLLATE NOCASE'],
    ['DOUBLE PRECISION', '"c" DOUBLE PRECISION'],
    ['UNSIGNED BIG INT', '"c" UNSIGNED BIG INT'],
    ['INTEGER REFERENCES users(id)', '"c" INTEGER REFERENCES "users"("id")'],
    [
      'INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE ON UPDATE SET NULL',
      '"c" INTEGER NOT NULL REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE SET NULL',
    ],
    [
      'INTEGER REFERENCES "odd name"("key col") on delete no action',
      '"c" INTEGER REFERENCES "odd name"("key col") ON DELETE NO ACTION',
    ],
    [
      'INTEGER REFERENCES t(id) ON DELETE SET DEFAULT ON UPDATE RESTRICT',
      '"c" INTEGER REFERENCES "t"("id") ON DELETE SET DEFAULT ON UPDATE RESTRICT',
    ],
  ])('%s', (spec, expected) => {
    expect(sqlOf(spec)).toBe(expected);
  });

  it('returns the parsed parts', () => {
    expect(parseColumnSpec('id', 'integer primary key autoincrement not null')).toEqual({
      type: 'INTEGER',
      primaryKey: { autoincrement: true },
      notNull: true,
      nullable: false,
      unique: false,
    });
    expect(parseColumnSpec('owner', 'INTEGER REFERENCES users(id) ON DELETE CASCADE').references).toEqual({
      table: 'users',
      column: 'id',
      onDelete: 'CASCADE',
    });
  });

  it('quotes the column name it is given', () => {
    expect(sqlOf('TEXT', 'we"ird')).toBe('"we""ird" TEXT');
  });
});

describe('parseColumnSpec refuses everything else, naming the column and the word', () => {
  it.each([
    ['TEXT; DROP TABLE users', 'unexpected character ";"'],
    ['TEXT DROP TABLE users', 'unexpected word "DROP"'],
    ['TEXT, evil TEXT', 'unexpected ","'],
    ['TEXT) ; DROP TABLE users; --', 'unexpected ")"'],
    ['TEXT NOT NULL; DROP TABLE users', 'unexpected character ";"'],
    ['TEXT -- comment', 'unexpected "-"'],
    ['TEXT /* x */', 'unexpected character "/"'],
    ['TEXT CHECK (length(c) > 3)', 'CHECK constraints are not supported'],
    ['TEXT CONSTRAINT pk PRIMARY KEY', 'unexpected word "CONSTRAINT"'],
    ['INTEGER GENERATED ALWAYS AS (1)', 'unexpected word "GENERATED"'],
    ['INTEGER AS (1)', 'unexpected word "AS"'],
    ['TEXT DEFAULT (lower(x))', 'unexpected "("'],
    ['TEXT DEFAULT x', 'unexpected word "x"'],
    ['TEXT DEFAULT', 'unexpected end of text'],
    ["TEXT DEFAULT 'unterminated", 'unterminated string'],
    ['TEXT COLLATE evil', 'unexpected word "evil"'],
    ['TEXT REFERENCES users', 'unexpected end of text'],
    ['TEXT REFERENCES users(id) ON DELETE DROP', 'unexpected word "DROP"'],
    ['TEXT REFERENCES users(id) MATCH FULL', 'unexpected word "MATCH"'],
    ['TEXT REFERENCES users(id) DEFERRABLE INITIALLY DEFERRED', 'unexpected word "DEFERRABLE"'],
    ['PRIMARY KEY', 'expected a type name'],
    ['', 'expected a type name'],
    ['EVILTYPE', 'unexpected word "EVILTYPE"'],
    ['VARCHAR(255', 'unexpected end of text'],
    ['VARCHAR(x)', 'unexpected word "x"'],
    ['TEXT NOT NULL NOT NULL', 'NOT NULL is given twice'],
    ['TEXT NULL NOT NULL', 'contradict'],
    ['TEXT PRIMARY KEY AUTOINCREMENT', 'AUTOINCREMENT needs the type INTEGER'],
    ['INT PRIMARY KEY AUTOINCREMENT', 'AUTOINCREMENT needs the type INTEGER'],
    ['TEXT UNIQUE ON CONFLICT REPLACE', 'unexpected word "ON"'],
    ['TEXT PRIMARY', 'KEY after PRIMARY'],
    ['TEXT\u0000', 'unexpected character'],
    ['INTEGER DEFAULT 1x', 'unexpected word "1x"'],
    ['TEXT TEXT TEXT TEXT', 'more than 3 words'],
  ])('%s', (spec, fragment) => {
    const message = refusal(spec, 'email');
    expect(message).toContain('Column "email"');
    expect(message).toContain(fragment);
  });

  it('refuses NUL inside a default string and overlong text', () => {
    expect(refusal("TEXT DEFAULT 'a\u0000b'")).toContain('NUL');
    expect(refusal(`TEXT DEFAULT '${'x'.repeat(2000)}'`)).toContain('longer than 1000');
  });
});

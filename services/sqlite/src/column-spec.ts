/**
 * create_table's column specs ("TEXT NOT NULL UNIQUE") are free text, so they are parsed with a
 * small grammar and the SQL is rebuilt from the parsed parts: nothing the caller wrote reaches SQL
 * verbatim. Grammar (keywords case-insensitive):
 *
 *   spec        := type constraint*
 *   type        := typeword+ [ '(' signed-number [ ',' signed-number ] ')' ]
 *   constraint  := PRIMARY KEY [ASC|DESC] [AUTOINCREMENT] | NOT NULL | NULL | UNIQUE
 *                | DEFAULT ( signed-number | 'string' | NULL | TRUE | FALSE | CURRENT_TIMESTAMP | CURRENT_DATE | CURRENT_TIME )
 *                | COLLATE ( BINARY | NOCASE | RTRIM )
 *                | REFERENCES name '(' name ')' [ ON ( DELETE | UPDATE ) action ]*
 *   action      := CASCADE | SET NULL | SET DEFAULT | RESTRICT | NO ACTION
 *
 * CHECK, CONSTRAINT, GENERATED, expressions and anything else are refused with an error naming the
 * column and the unexpected word. REFERENCES names are checked against the live schema by the
 * database module, which passes in resolved names before the SQL is built.
 */
import { DatabaseError, showName } from './errors.js';
import { quoteIdentifier } from './identifiers.js';

export type ForeignKeyAction = 'CASCADE' | 'SET NULL' | 'SET DEFAULT' | 'RESTRICT' | 'NO ACTION';
export type Collation = 'BINARY' | 'NOCASE' | 'RTRIM';

export interface ColumnReference {
  table: string;
  column: string;
  onDelete?: ForeignKeyAction;
  onUpdate?: ForeignKeyAction;
}

export interface ColumnSpec {
  /** Normalized type: upper-case words, single spaces, optional `(n)` or `(n,m)`. */
  type: string;
  primaryKey?: { order?: 'ASC' | 'DESC'; autoincrement: boolean };
  notNull: boolean;
  /** An explicit NULL constraint (allowed by SQLite; kept so the rebuilt SQL says what was asked). */
  nullable: boolean;
  unique: boolean;
  /** The default as a rebuilt SQL literal. */
  defaultSql?: string;
  collate?: Collation;
  references?: ColumnReference;
}

/** Words a type name may be made of: SQLite's affinity names and the common aliases. */
const TYPE_WORDS = new Set([
  'ANY',
  'BIG',
  'BIGINT',
  'BLOB',
  'BOOL',
  'BOOLEAN',
  'CHAR',
  'CHARACTER',
  'CLOB',
  'DATE',
  'DATETIME',
  'DECIMAL',
  'DOUBLE',
  'FLOAT',
  'INT',
  'INT2',
  'INT8',
  'INTEGER',
  'JSON',
  'MEDIUMINT',
  'NATIVE',
  'NCHAR',
  'NUMERIC',
  'NVARCHAR',
  'PRECISION',
  'REAL',
  'SMALLINT',
  'TEXT',
  'TIME',
  'TIMESTAMP',
  'TINYINT',
  'UNSIGNED',
  'UUID',
  'VARCHAR',
  'VARYING',
]);

const MAX_TYPE_WORDS = 3;
const MAX_SPEC_LENGTH = 1000;
const EXPECTED_CONSTRAINT = 'PRIMARY KEY, NOT NULL, NULL, UNIQUE, DEFAULT, COLLATE or REFERENCES';
const DEFAULT_KEYWORDS = new Set(['NULL', 'TRUE', 'FALSE', 'CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME']);
const COLLATIONS = new Set<Collation>(['BINARY', 'NOCASE', 'RTRIM']);

type Token =
  | { kind: 'word'; text: string; upper: string }
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'quoted'; value: string; text: string }
  | { kind: 'punct'; text: string }
  // Not part of the grammar; reported when the parser reaches it, so errors come in reading order.
  | { kind: 'bad'; text: string; what: 'character' | 'word' };

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/;

class SpecError {
  constructor(
    readonly column: string,
    readonly spec: string,
  ) {}

  fail(detail: string): DatabaseError {
    return new DatabaseError('INVALID_INPUT', `Column ${showName(this.column)}: ${detail} in ${showName(this.spec)}`);
  }
}

function tokenize(text: string, errors: SpecError): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const ch = text.charAt(i);
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const word = WORD.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], upper: word[0].toUpperCase() });
      i += word[0].length;
      continue;
    }
    const number = NUMBER.exec(rest);
    if (number) {
      if (WORD.test(text.slice(i + number[0].length))) {
        const glued = /^[A-Za-z0-9_.]+/.exec(rest)?.[0] ?? number[0];
        tokens.push({ kind: 'bad', text: glued, what: 'word' });
        i += glued.length;
        continue;
      }
      tokens.push({ kind: 'number', text: number[0] });
      i += number[0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      // SQL quoting: the quote character is escaped by doubling it.
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw errors.fail(`unterminated ${ch === "'" ? 'string' : 'quoted name'}`);
        const c = text.charAt(j);
        if (c === ch) {
          if (text.charAt(j + 1) === ch) {
            value += ch;
            j += 2;
            continue;
          }
          break;
        }
        value += c;
        j++;
      }
      if (value.includes('\0')) throw errors.fail('NUL characters are not allowed');
      const tokenText = text.slice(i, j + 1);
      tokens.push(ch === "'" ? { kind: 'string', value, text: tokenText } : { kind: 'quoted', value, text: tokenText });
      i = j + 1;
      continue;
    }
    if ('(),+-'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch });
      i++;
      continue;
    }
    tokens.push({ kind: 'bad', text: ch, what: 'character' });
    i++;
  }
  return tokens;
}

function describe(token: Token | undefined): string {
  if (token === undefined) return 'end of text';
  if (token.kind === 'punct') return showName(token.text);
  if (token.kind === 'bad') return `${token.what} ${showName(token.text)}`;
  return `word ${showName(token.text)}`;
}

class Parser {
  private position = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly errors: SpecError,
  ) {}

  peek(): Token | undefined {
    return this.tokens[this.position];
  }

  next(): Token | undefined {
    return this.tokens[this.position++];
  }

  done(): boolean {
    return this.position >= this.tokens.length;
  }

  unexpected(token: Token | undefined, expected: string): DatabaseError {
    return this.errors.fail(`unexpected ${describe(token)}; expected ${expected}`);
  }

  /** Consumes a keyword or throws naming what was found instead. */
  keyword(word: string, expected = word): void {
    const token = this.next();
    if (token?.kind !== 'word' || token.upper !== word) throw this.unexpected(token, expected);
  }

  peekWord(): string | undefined {
    const token = this.peek();
    return token?.kind === 'word' ? token.upper : undefined;
  }

  punct(text: string): void {
    const token = this.next();
    if (token?.kind !== 'punct' || token.text !== text) throw this.unexpected(token, `"${text}"`);
  }

  signedNumber(expected: string): string {
    let sign = '';
    let token = this.next();
    if (token?.kind === 'punct' && (token.text === '+' || token.text === '-')) {
      sign = token.text === '-' ? '-' : '';
      token = this.next();
    }
    if (token?.kind !== 'number') throw this.unexpected(token, expected);
    return `${sign}${token.text}`;
  }

  name(expected: string): string {
    const token = this.next();
    if (token?.kind === 'word') return token.text;
    if (token?.kind === 'quoted') return token.value;
    throw this.unexpected(token, expected);
  }
}

function parseType(parser: Parser, errors: SpecError): string {
  const words: string[] = [];
  while (true) {
    const token = parser.peek();
    if (token?.kind !== 'word' || !TYPE_WORDS.has(token.upper)) break;
    words.push(token.upper);
    parser.next();
  }
  if (words.length === 0) {
    throw parser.unexpected(parser.peek(), 'a type name such as INTEGER, TEXT, REAL, BLOB or NUMERIC');
  }
  if (words.length > MAX_TYPE_WORDS) throw errors.fail(`type name has more than ${MAX_TYPE_WORDS} words`);
  let type = words.join(' ');
  const open = parser.peek();
  if (open?.kind === 'punct' && open.text === '(') {
    parser.next();
    const size = parser.signedNumber('a size such as 255');
    let scale = '';
    const comma = parser.peek();
    if (comma?.kind === 'punct' && comma.text === ',') {
      parser.next();
      scale = `,${parser.signedNumber('a scale such as 2')}`;
    }
    parser.punct(')');
    type += `(${size}${scale})`;
  }
  return type;
}

function parseAction(parser: Parser): ForeignKeyAction {
  const word = parser.peekWord();
  const expected = 'CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION';
  switch (word) {
    case 'CASCADE':
    case 'RESTRICT':
      parser.next();
      return word;
    case 'SET': {
      parser.next();
      const what = parser.peekWord();
      if (what !== 'NULL' && what !== 'DEFAULT') throw parser.unexpected(parser.peek(), 'NULL or DEFAULT after SET');
      parser.next();
      return `SET ${what}`;
    }
    case 'NO':
      parser.next();
      parser.keyword('ACTION', 'ACTION after NO');
      return 'NO ACTION';
    default:
      throw parser.unexpected(parser.peek(), expected);
  }
}

function parseDefault(parser: Parser): string {
  const token = parser.peek();
  const expected = "a number, a 'string', NULL, TRUE, FALSE, CURRENT_TIMESTAMP, CURRENT_DATE or CURRENT_TIME";
  if (token?.kind === 'string') {
    parser.next();
    return `'${token.value.replaceAll("'", "''")}'`;
  }
  if (token?.kind === 'word' && DEFAULT_KEYWORDS.has(token.upper)) {
    parser.next();
    return token.upper;
  }
  if (token?.kind === 'number' || (token?.kind === 'punct' && (token.text === '+' || token.text === '-'))) {
    return parser.signedNumber(expected);
  }
  throw parser.unexpected(token, expected);
}

/** Parses one column's "type-and-constraints" text. Throws INVALID_INPUT naming the column and the word. */
export function parseColumnSpec(column: string, text: string): ColumnSpec {
  const errors = new SpecError(column, text);
  if (text.length > MAX_SPEC_LENGTH) {
    throw new DatabaseError(
      'INVALID_INPUT',
      `Column ${showName(column)}: the type-and-constraints text is longer than ${MAX_SPEC_LENGTH} characters`,
    );
  }
  const parser = new Parser(tokenize(text, errors), errors);
  const spec: ColumnSpec = { type: parseType(parser, errors), notNull: false, nullable: false, unique: false };
  const seen = new Set<string>();
  const once = (name: string) => {
    if (seen.has(name)) throw errors.fail(`${name} is given twice`);
    seen.add(name);
  };

  while (!parser.done()) {
    const token = parser.peek();
    if (token?.kind !== 'word') throw parser.unexpected(token, EXPECTED_CONSTRAINT);
    switch (token.upper) {
      case 'PRIMARY': {
        parser.next();
        parser.keyword('KEY', 'KEY after PRIMARY');
        once('PRIMARY KEY');
        const primaryKey: NonNullable<ColumnSpec['primaryKey']> = { autoincrement: false };
        const order = parser.peekWord();
        if (order === 'ASC' || order === 'DESC') {
          parser.next();
          primaryKey.order = order;
        }
        if (parser.peekWord() === 'AUTOINCREMENT') {
          parser.next();
          if (spec.type !== 'INTEGER') {
            throw errors.fail(`AUTOINCREMENT needs the type INTEGER exactly (got ${showName(spec.type)})`);
          }
          primaryKey.autoincrement = true;
        }
        spec.primaryKey = primaryKey;
        break;
      }
      case 'NOT':
        parser.next();
        parser.keyword('NULL', 'NULL after NOT');
        once('NOT NULL');
        if (spec.nullable) throw errors.fail('NULL and NOT NULL contradict each other');
        spec.notNull = true;
        break;
      case 'NULL':
        parser.next();
        once('NULL');
        if (spec.notNull) throw errors.fail('NULL and NOT NULL contradict each other');
        spec.nullable = true;
        break;
      case 'UNIQUE':
        parser.next();
        once('UNIQUE');
        spec.unique = true;
        break;
      case 'DEFAULT':
        parser.next();
        once('DEFAULT');
        spec.defaultSql = parseDefault(parser);
        break;
      case 'COLLATE': {
        parser.next();
        once('COLLATE');
        const collation = parser.peekWord();
        if (!COLLATIONS.has(collation as Collation)) throw parser.unexpected(parser.peek(), 'BINARY, NOCASE or RTRIM');
        parser.next();
        spec.collate = collation as Collation;
        break;
      }
      case 'REFERENCES': {
        parser.next();
        once('REFERENCES');
        const table = parser.name('a table name after REFERENCES');
        parser.punct('(');
        const referenced = parser.name('a column name in REFERENCES table(column)');
        parser.punct(')');
        const reference: ColumnReference = { table, column: referenced };
        while (parser.peekWord() === 'ON') {
          parser.next();
          const event = parser.peekWord();
          if (event !== 'DELETE' && event !== 'UPDATE')
            throw parser.unexpected(parser.peek(), 'DELETE or UPDATE after ON');
          parser.next();
          const key = event === 'DELETE' ? 'onDelete' : 'onUpdate';
          if (reference[key] !== undefined) throw errors.fail(`ON ${event} is given twice`);
          reference[key] = parseAction(parser);
        }
        spec.references = reference;
        break;
      }
      case 'CHECK':
        throw errors.fail('CHECK constraints are not supported by create_table (unexpected word "CHECK")');
      default:
        throw parser.unexpected(token, EXPECTED_CONSTRAINT);
    }
  }
  return spec;
}

/** Rebuilds one column definition from a parsed spec: `"name" TYPE constraint…`. */
export function columnDefinitionSql(column: string, spec: ColumnSpec): string {
  const parts = [quoteIdentifier(column), spec.type];
  if (spec.primaryKey) {
    parts.push('PRIMARY KEY');
    if (spec.primaryKey.order) parts.push(spec.primaryKey.order);
    if (spec.primaryKey.autoincrement) parts.push('AUTOINCREMENT');
  }
  if (spec.notNull) parts.push('NOT NULL');
  if (spec.nullable) parts.push('NULL');
  if (spec.unique) parts.push('UNIQUE');
  if (spec.defaultSql !== undefined) parts.push('DEFAULT', spec.defaultSql);
  if (spec.collate) parts.push('COLLATE', spec.collate);
  if (spec.references) {
    const { table, column: referenced, onDelete, onUpdate } = spec.references;
    parts.push('REFERENCES', `${quoteIdentifier(table)}(${quoteIdentifier(referenced)})`);
    if (onDelete) parts.push('ON DELETE', onDelete);
    if (onUpdate) parts.push('ON UPDATE', onUpdate);
  }
  return parts.join(' ');
}

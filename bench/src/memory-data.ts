/**
 * The memory bench's data: a database of N memories written with the service's own schema, vector
 * tables and builtin embeddings, plus queries and their exact top-10 (a full float scan). Generating
 * a million rows takes minutes, so the database and the truth are cached under bench/.cache/
 * (gitignored) and reused while the generator's version and the size match.
 *
 * The text is synthetic but shaped like notes: words drawn from a Zipf-distributed vocabulary mixed
 * with a topic's own words (a thousand topics), 8 to 30 words each. A query is a paraphrase of one
 * memory (some of its words, reordered, plus topic words), so real neighbours exist and differ.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { signCode } from '../../services/memory/src/binary-index.js';
import { hashedEmbedding } from '../../services/memory/src/embeddings.js';
import { contentHash } from '../../services/memory/src/normalise.js';
import { openConnection, prepareSchema, vectorTables } from '../../services/memory/src/schema.js';

/** Bump when the generated data changes shape: a cache of another version is regenerated. */
export const DATA_VERSION = 1;
export const DIMENSIONS = 384;
const TOPICS = 1000;
const VOCABULARY = 20_000;
const TOPIC_WORDS = 60;

/** mulberry32: a small seeded PRNG, so the same seed makes the same data on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d_2b_79_f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SYLLABLES = [
  'ka',
  'lo',
  'mi',
  'ne',
  'ru',
  'sa',
  'te',
  'vi',
  'do',
  'pa',
  'zu',
  'fe',
  'go',
  'hi',
  'jo',
  'be',
  'qua',
  'tri',
  'sten',
  'mor',
];

function makeWords(): string[] {
  const next = random(7);
  const words = new Set<string>();
  while (words.size < VOCABULARY) {
    const length = 2 + Math.floor(next() * 3);
    let word = '';
    for (let i = 0; i < length; i++) word += SYLLABLES[Math.floor(next() * SYLLABLES.length)];
    words.add(word);
  }
  return [...words];
}

export class TextGenerator {
  private readonly words = makeWords();
  private readonly topics: string[][];
  /** Cumulative Zipf weights over the vocabulary. */
  private readonly cumulative: Float64Array;

  constructor() {
    const next = random(11);
    this.topics = Array.from({ length: TOPICS }, () =>
      Array.from({ length: TOPIC_WORDS }, () => this.words[Math.floor(next() * VOCABULARY)]!),
    );
    this.cumulative = new Float64Array(VOCABULARY);
    let sum = 0;
    for (let i = 0; i < VOCABULARY; i++) {
      sum += 1 / (i + 1);
      this.cumulative[i] = sum;
    }
    for (let i = 0; i < VOCABULARY; i++) this.cumulative[i]! /= sum;
  }

  private zipf(next: () => number): string {
    const x = next();
    let lo = 0;
    let hi = VOCABULARY - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return this.words[lo]!;
  }

  /** Memory i: its text, topic and tags (deterministic in i). */
  memory(i: number): { text: string; topic: number; tags: string[] } {
    const next = random(1_000_003 * (i + 1));
    const topic = Math.floor(next() * TOPICS);
    const count = 8 + Math.floor(next() * 23);
    const words: string[] = [];
    for (let w = 0; w < count; w++) {
      words.push(next() < 0.5 ? this.topics[topic]![Math.floor(next() * TOPIC_WORDS)]! : this.zipf(next));
    }
    // A number makes each text unique (content is deduplicated by hash).
    words.push(`n${i}`);
    return { text: words.join(' '), topic, tags: [`topic-${topic % 100}`, `kind-${i % 7}`] };
  }

  /** Query q: a paraphrase of a random memory among `size`. */
  query(q: number, size: number): string {
    const next = random(97 * (q + 1));
    const source = this.memory(Math.floor(next() * size));
    const words = source.text.split(' ').slice(0, -1);
    const kept = words.filter(() => next() < 0.6);
    const topicWords = this.topics[source.topic]!;
    kept.push(topicWords[Math.floor(next() * TOPIC_WORDS)]!, topicWords[Math.floor(next() * TOPIC_WORDS)]!);
    for (let i = kept.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [kept[i], kept[j]] = [kept[j]!, kept[i]!];
    }
    return kept.join(' ');
  }
}

export interface BenchData {
  dbPath: string;
  size: number;
  queries: string[];
  /** Exact top-10 memory hashes per query (float cosine over every memory). */
  truth: string[][];
}

interface Manifest {
  version: number;
  size: number;
  queries: string[];
  truth: string[][];
}

/** Fills a new database with `size` memories, in transactions of 10,000 rows. */
function generate(dbPath: string, size: number, log: (line: string) => void): void {
  const db = openConnection({ path: dbPath, busyTimeoutMs: 5000 });
  try {
    // Bench data, not user data: no fsync per transaction while filling.
    db.pragma('synchronous = OFF');
    const spec = prepareSchema(db, { provider: 'builtin', model: 'hashed-ngrams-v1', dimensions: DIMENSIONS });
    const { floats, codes } = vectorTables(spec.generation);
    const insert = db.prepare(
      'INSERT INTO memories (hash, content, type, tags, metadata, conversation_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?, ?)',
    );
    const insertFloat = db.prepare(`INSERT INTO ${floats} (id, embedding) VALUES (?, ?)`);
    const insertCode = db.prepare(`INSERT INTO ${codes} (id, code) VALUES (?, ?)`);
    const generator = new TextGenerator();
    // Spread over the last two years, oldest first.
    const end = Date.UTC(2026, 0, 1);
    const span = 730 * 86_400_000;
    const started = Date.now();
    const batch = 10_000;
    for (let start = 0; start < size; start += batch) {
      db.transaction(() => {
        for (let i = start; i < Math.min(size, start + batch); i++) {
          const { text, tags } = generator.memory(i);
          const at = end - span + Math.floor((span * i) / size);
          const { lastInsertRowid } = insert.run(
            contentHash(text),
            text,
            i % 5 === 0 ? 'decision' : 'note',
            JSON.stringify(tags.sort()),
            '{}',
            at,
            at,
          );
          const vector = hashedEmbedding(text, DIMENSIONS);
          const blob = Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
          insertFloat.run(lastInsertRowid, blob);
          insertCode.run(lastInsertRowid, signCode(vector));
        }
      })();
      if ((start / batch) % 10 === 9 || start + batch >= size) {
        const done = Math.min(size, start + batch);
        log(
          `    generated ${done.toLocaleString('en')} / ${size.toLocaleString('en')} (${Math.round((Date.now() - started) / 1000)} s)`,
        );
      }
    }
    // The outbox of a million inserts is not part of the data set.
    db.exec("DELETE FROM events; DELETE FROM sqlite_sequence WHERE name = 'events';");
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
}

function dotProduct(a: Float32Array, b: Float32Array, offset: number): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[offset + i]!;
  return sum;
}

/** The exact top-10 of each query: one pass over every float vector. */
function exactTruth(dbPath: string, queries: string[], log: (line: string) => void): string[][] {
  const db = openConnection({ path: dbPath, busyTimeoutMs: 5000, readonly: true });
  try {
    const vectors = queries.map((query) => hashedEmbedding(query, DIMENSIONS));
    const best = queries.map(() => [] as { id: number; score: number }[]);
    const floor = queries.map(() => -Infinity);
    const started = Date.now();
    let seen = 0;
    for (const row of db
      .prepare<[], { id: number; embedding: Buffer }>(`SELECT id, embedding FROM ${vectorTables(1).floats}`)
      .iterate()) {
      const floats = new Float32Array(row.embedding.buffer, row.embedding.byteOffset, DIMENSIONS);
      for (let q = 0; q < vectors.length; q++) {
        const score = dotProduct(vectors[q]!, floats, 0);
        if (score <= floor[q]!) continue;
        const list = best[q]!;
        list.push({ id: row.id, score });
        list.sort((a, b) => b.score - a.score);
        if (list.length > 10) list.pop();
        if (list.length === 10) floor[q] = list[9]!.score;
      }
      if (++seen % 200_000 === 0)
        log(`    exact scan: ${seen.toLocaleString('en')} rows (${Math.round((Date.now() - started) / 1000)} s)`);
    }
    const hashOf = db.prepare<[number], string>('SELECT hash FROM memories WHERE id = ?').pluck();
    return best.map((list) => list.map((hit) => hashOf.get(hit.id) ?? ''));
  } finally {
    db.close();
  }
}

/** The cached data set of `size` memories, generated first when missing or stale. */
export function benchData(cacheDir: string, size: number, queryCount: number, log: (line: string) => void): BenchData {
  mkdirSync(cacheDir, { recursive: true });
  const dbPath = path.join(cacheDir, `memory-${size}.db`);
  const manifestPath = path.join(cacheDir, `memory-${size}.json`);
  if (existsSync(manifestPath) && existsSync(dbPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    if (manifest.version === DATA_VERSION && manifest.size === size && manifest.queries.length >= queryCount) {
      return {
        dbPath,
        size,
        queries: manifest.queries.slice(0, queryCount),
        truth: manifest.truth.slice(0, queryCount),
      };
    }
  }
  log(
    `  generating ${size.toLocaleString('en')} memories into ${path.relative(process.cwd(), dbPath)} (cached for later runs)`,
  );
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
  const building = `${dbPath}.building`;
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${building}${suffix}`, { force: true });
  generate(building, size, log);
  renameSync(building, dbPath);
  const generator = new TextGenerator();
  const queries = Array.from({ length: queryCount }, (_, q) => generator.query(q, size));
  log(`  computing the exact top-10 of ${queryCount} queries (a full float scan)`);
  const truth = exactTruth(dbPath, queries, log);
  writeFileSync(manifestPath, JSON.stringify({ version: DATA_VERSION, size, queries, truth } satisfies Manifest));
  return { dbPath, size, queries, truth };
}

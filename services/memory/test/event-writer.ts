/**
 * Another process on the same database file (the events test's writer): stores one memory with
 * the domain code, as a second service or a script would, prints its hash and exits.
 */
import { hashedEmbedding } from '../src/embeddings.js';
import { contentHash } from '../src/normalise.js';
import { openConnection, readSpec } from '../src/schema.js';
import { storeMemory } from '../src/writes.js';

const [path, content] = process.argv.slice(2) as [string, string];
const db = openConnection({ path, busyTimeoutMs: 5000 });
const spec = readSpec(db);
if (!spec) throw new Error('no embeddings record');
const hash = contentHash(content);
storeMemory(
  db,
  { hash, content, type: null, tags: ['other-process'], metadata: '{}', conversationId: null },
  hashedEmbedding(content, spec.dimensions),
  spec,
  Date.now(),
);
db.close();
process.stdout.write(`${hash}\n`);

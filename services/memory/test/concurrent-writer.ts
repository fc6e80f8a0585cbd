/**
 * A writer process for the concurrency test: stores `count` memories through the domain code on
 * the shared file (each in its own IMMEDIATE transaction), printing `ack <hash>` after each commit.
 */
import { hashedEmbedding } from '../src/embeddings.js';
import { contentHash } from '../src/normalise.js';
import { openConnection, readSpec } from '../src/schema.js';
import { storeMemory } from '../src/writes.js';

const [path, name, count] = process.argv.slice(2) as [string, string, string];
const db = openConnection({ path, busyTimeoutMs: 10_000 });
const spec = readSpec(db);
if (!spec) throw new Error('no embeddings record');
for (let i = 0; i < Number(count); i++) {
  const content = `${name} writes memory ${i}`;
  const hash = contentHash(content);
  storeMemory(
    db,
    { hash, content, type: null, tags: [name], metadata: '{}', conversationId: null },
    hashedEmbedding(content, spec.dimensions),
    spec,
    Date.now(),
  );
  process.stdout.write(`ack ${hash}\n`);
}
db.close();

/**
 * The binary index: the candidate stage of semantic search.
 *
 * Each vector is rotated by a fixed randomised Hadamard transform (signs, fast Walsh-Hadamard, signs,
 * Walsh-Hadamard, over the vector padded to a power of two) and kept as the signs of the result:
 * one bit per padded dimension (384 dimensions → 512 bits, 64 bytes). The rotation is orthogonal,
 * so angles are kept, and it spreads every input direction over all coordinates, which makes the
 * sign bits a SimHash: the Hamming distance between two codes estimates the angle between the
 * vectors (P(bit differs) = angle / π). Without it, sparse vectors (the builtin embeddings) share
 * most signs and the codes say little.
 *
 * A query process holds every code in memory (64 MB per million memories) and scans them with a
 * small WebAssembly function (i64.popcnt over the XOR), keeps the nearest 10,000 by Hamming distance
 * (a counting selection), ranks those by an asymmetric estimate (the float query against the
 * code's signs), and the caller rescores the best MEMORY_SEARCH_CANDIDATES exactly against the
 * float vectors. New codes are read incrementally (ids only grow:
 * memories.id is AUTOINCREMENT); deletions are dropped at rescoring and by a periodic reload.
 *
 * Plain domain code: no MCP or server imports.
 */

/** Bits of a code for `dimensions`: the next power of two. */
export function codeBits(dimensions: number): number {
  let bits = 1;
  while (bits < dimensions) bits *= 2;
  return Math.max(bits, 64);
}

/** mulberry32, seeded: the same signs on every machine and in every process. */
function randomSigns(length: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const signs = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d_2b_79_f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    signs[i] = ((t ^ (t >>> 14)) >>> 0) & 1 ? 1 : -1;
  }
  return signs;
}

function walshHadamard(values: Float32Array): void {
  for (let half = 1; half < values.length; half *= 2) {
    for (let start = 0; start < values.length; start += half * 2) {
      for (let i = start; i < start + half; i++) {
        const a = values[i]!;
        const b = values[i + half]!;
        values[i] = a + b;
        values[i + half] = a - b;
      }
    }
  }
}

const signCache = new Map<number, [Float32Array, Float32Array]>();

/** The vector rotated by the fixed randomised Hadamard transform (padded to codeBits(length)). */
export function rotate(vector: Float32Array): Float32Array {
  const bits = codeBits(vector.length);
  let signs = signCache.get(bits);
  if (!signs) {
    signs = [randomSigns(bits, 0x5e_ed_00_01), randomSigns(bits, 0x5e_ed_00_02)];
    signCache.set(bits, signs);
  }
  const work = new Float32Array(bits);
  work.set(vector);
  for (const round of signs) {
    for (let i = 0; i < bits; i++) work[i]! *= round[i]!;
    walshHadamard(work);
  }
  return work;
}

/** The code of a vector: sign bits of its rotation, packed little-endian (bit j of byte k is coordinate 8k+j). */
export function signCode(vector: Float32Array): Buffer {
  const work = rotate(vector);
  const code = Buffer.alloc(work.length / 8);
  for (let i = 0; i < work.length; i++) if (work[i]! > 0) code[i >> 3]! |= 1 << (i & 7);
  return code;
}

/**
 * The scan, in WebAssembly (hand-assembled; WebAssembly.validate checks it at load):
 *   scan(codes, n, words, query, out): for i < n: out[i] (u16) = Σ_w popcnt(codes[i][w] ^ query[w])
 * with `words` 64-bit words per code.
 */
function scanModule(): Uint8Array {
  const body = [
    0x03,
    0x02,
    0x7f,
    0x01,
    0x7e,
    0x01,
    0x7f, // locals: i, w (i32); d (i64); p (i32)
    0x20,
    0x00,
    0x21,
    0x08, // p = codes
    0x02,
    0x40,
    0x03,
    0x40, // block, loop
    0x20,
    0x05,
    0x20,
    0x01,
    0x4f,
    0x0d,
    0x01, // if i >= n break
    0x42,
    0x00,
    0x21,
    0x07,
    0x41,
    0x00,
    0x21,
    0x06, // d = 0; w = 0
    0x02,
    0x40,
    0x03,
    0x40, // block, loop
    0x20,
    0x06,
    0x20,
    0x02,
    0x4f,
    0x0d,
    0x01, // if w >= words break
    0x20,
    0x07, // d
    0x20,
    0x08,
    0x29,
    0x03,
    0x00, // i64.load p
    0x20,
    0x03,
    0x20,
    0x06,
    0x41,
    0x03,
    0x74,
    0x6a,
    0x29,
    0x03,
    0x00, // i64.load query + w*8
    0x85,
    0x7b,
    0x7c,
    0x21,
    0x07, // d += popcnt(xor)
    0x20,
    0x08,
    0x41,
    0x08,
    0x6a,
    0x21,
    0x08, // p += 8
    0x20,
    0x06,
    0x41,
    0x01,
    0x6a,
    0x21,
    0x06, // w++
    0x0c,
    0x00,
    0x0b,
    0x0b, // continue; end loop; end block
    0x20,
    0x04,
    0x20,
    0x05,
    0x41,
    0x01,
    0x74,
    0x6a, // out + i*2
    0x20,
    0x07,
    0xa7,
    0x3b,
    0x01,
    0x00, // i32.store16 (u32)d
    0x20,
    0x05,
    0x41,
    0x01,
    0x6a,
    0x21,
    0x05, // i++
    0x0c,
    0x00,
    0x0b,
    0x0b, // continue; end loop; end block
    0x0b, // end function
  ];
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const leb = (value: number) => {
    const out: number[] = [];
    do {
      let byte = value & 0x7f;
      value >>>= 7;
      if (value !== 0) byte |= 0x80;
      out.push(byte);
    } while (value !== 0);
    return out;
  };
  return Uint8Array.from([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]),
    ...section(2, [0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01]),
    ...section(3, [0x01, 0x00]),
    ...section(7, [0x01, 0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x00]),
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
}

const PAGE = 65_536;

/** The parts of the WebAssembly API used here (@types/node 20 declares its types, not the global). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Every code of one vector generation, in memory, scanned by WebAssembly. */
export class BinaryIndex {
  private readonly memory = new wasm.Memory({ initial: 1 });
  private readonly scan: (codes: number, n: number, words: number, query: number, out: number) => void;
  private readonly codeBytes: number;
  private ids = new Float64Array(1024);
  private count = 0;
  /** The highest id loaded: new codes are those above it. */
  maxId = 0;

  constructor(readonly dimensions: number) {
    this.codeBytes = codeBits(dimensions) / 8;
    const bytes = scanModule();
    if (!wasm.validate(bytes)) throw new Error('the binary index scan module does not validate');
    const instance = new wasm.Instance(new wasm.Module(bytes), { env: { mem: this.memory } });
    this.scan = instance.exports['scan'] as typeof this.scan;
  }

  get size(): number {
    return this.count;
  }

  /** Adds codes in id order (each id above maxId). */
  add(id: number, code: Uint8Array): void {
    if (code.length !== this.codeBytes) throw new Error(`code of ${code.length} bytes; expected ${this.codeBytes}`);
    if (this.count === this.ids.length) {
      const grown = new Float64Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    // Layout: [query code][codes…] then the u16 distances after them (placed at scan time).
    const offset = this.codeBytes * (this.count + 1);
    this.ensure(offset + this.codeBytes);
    new Uint8Array(this.memory.buffer, offset, this.codeBytes).set(code);
    this.ids[this.count] = id;
    this.count++;
    if (id > this.maxId) this.maxId = id;
  }

  /**
   * The ids of about `k` codes nearest to `vector`, in two stages: the `preselect` nearest codes by
   * Hamming distance to the query's code (the WebAssembly scan and a counting selection), then the
   * best `k` of those by the asymmetric estimate ⟨rotate(query), ±1 signs of the code⟩, which
   * keeps the query's magnitudes and ranks far better than Hamming alone (measured at a million
   * memories: recall@10 after exact rescoring 0.86 with Hamming alone, 0.98 with this stage).
   */
  nearest(vector: Float32Array, k: number, preselect: number): number[] {
    const positions = this.nearestPositions(signCode(vector), Math.max(k, preselect));
    if (positions.length <= k) return positions.map((position) => this.ids[position]!);
    // Per-byte tables: table[b * 256 + value] = Σ over the set bits j of value of rotated[8b + j].
    const rotated = rotate(vector);
    const bytes = this.codeBytes;
    const table = new Float32Array(bytes * 256);
    for (let b = 0; b < bytes; b++) {
      const base = b * 256;
      for (let bit = 0; bit < 8; bit++) {
        const weight = rotated[b * 8 + bit]!;
        const step = 1 << bit;
        for (let value = step; value < 256; value += step * 2) {
          for (let v = value; v < value + step; v++) table[base + v]! += weight;
        }
      }
    }
    const memory = new Uint8Array(this.memory.buffer);
    const scores = new Float32Array(positions.length);
    for (let i = 0; i < positions.length; i++) {
      let offset = this.codeBytes * (positions[i]! + 1);
      let score = 0;
      for (let b = 0; b < bytes; b++) score += table[b * 256 + memory[offset++]!]!;
      scores[i] = score;
    }
    // The k-th best score by a native numeric sort of a copy, then one pass for those above it.
    const threshold = Float32Array.from(scores).sort()[scores.length - k]!;
    const above: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < scores.length; i++) {
      if (scores[i]! > threshold) above.push(this.ids[positions[i]!]!);
      else if (scores[i] === threshold) at.push(this.ids[positions[i]!]!);
    }
    return [...above, ...at.slice(0, k - above.length)];
  }

  /** Positions of the `k` codes nearest to `code` by Hamming distance (ties broken by position). */
  private nearestPositions(code: Uint8Array, k: number): number[] {
    const n = this.count;
    if (n === 0) return [];
    const codesEnd = this.codeBytes * (n + 1);
    const outOffset = Math.ceil(codesEnd / 8) * 8;
    this.ensure(outOffset + n * 2);
    new Uint8Array(this.memory.buffer, 0, this.codeBytes).set(code);
    this.scan(this.codeBytes, n, this.codeBytes / 8, 0, outOffset);
    const distances = new Uint16Array(this.memory.buffer, outOffset, n);
    if (k >= n) return Array.from({ length: n }, (_, i) => i);
    // Counting selection: the distance below which fewer than k codes lie, then fill up to k.
    const histogram = new Uint32Array(this.codeBytes * 8 + 1);
    for (let i = 0; i < n; i++) histogram[distances[i]!]!++;
    let threshold = 0;
    let below = 0;
    while (below + histogram[threshold]! < k) below += histogram[threshold++]!;
    let atThreshold = k - below;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const distance = distances[i]!;
      if (distance < threshold) out.push(i);
      else if (distance === threshold && atThreshold > 0) {
        out.push(i);
        atThreshold--;
      }
    }
    return out;
  }

  private ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
  }
}

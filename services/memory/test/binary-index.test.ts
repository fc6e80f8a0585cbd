import { describe, expect, it } from 'vitest';

import { BinaryIndex, codeBits, rotate, signCode } from '../src/binary-index.js';
import { hashedEmbedding, normalise } from '../src/embeddings.js';

function popcount(x: number): number {
  let count = 0;
  for (let v = x; v; v &= v - 1) count++;
  return count;
}

function hamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount(a[i]! ^ b[i]!);
  return d;
}

function randomUnit(dimensions: number, seed: number): Float32Array {
  let s = seed;
  const next = () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648 - 0.5;
  return normalise(Float32Array.from({ length: dimensions }, next));
}

describe('binary codes', () => {
  it('have a power-of-two number of bits, at least 64', () => {
    expect(codeBits(384)).toBe(512);
    expect(codeBits(512)).toBe(512);
    expect(codeBits(1536)).toBe(2048);
    expect(codeBits(8)).toBe(64);
    expect(signCode(randomUnit(384, 1))).toHaveLength(64);
  });

  it('estimate angles: close vectors have close codes', () => {
    const a = hashedEmbedding('the user prefers dark mode in every editor', 384);
    const near = hashedEmbedding('dark mode in the editor is what the user prefers', 384);
    const far = hashedEmbedding('quarterly revenue grew in brazil', 384);
    expect(hamming(signCode(a), signCode(near))).toBeLessThan(hamming(signCode(a), signCode(far)));
    expect(hamming(signCode(a), signCode(a))).toBe(0);
    // Opposite vectors: every bit differs.
    expect(hamming(signCode(a), signCode(a.map((x) => -x)))).toBe(512);
  });
});

describe('BinaryIndex', () => {
  const vectors = Array.from({ length: 3000 }, (_, i) => randomUnit(384, i + 1));
  const codes = vectors.map((vector) => signCode(vector));
  const build = () => {
    const index = new BinaryIndex(384);
    codes.forEach((code, i) => index.add(i + 10, code));
    return index;
  };
  const query = randomUnit(384, 99_999);

  it('scans in WebAssembly exactly as a JavaScript popcount would, and keeps the k nearest codes', () => {
    const index = build();
    expect([index.size, index.maxId]).toEqual([3000, 3009]);
    const queryCode = signCode(query);
    const distances = codes.map((code) => hamming(code, queryCode));
    // preselect = k: the Hamming stage alone.
    const got = index.nearest(query, 50, 50);
    expect(got).toHaveLength(50);
    const worst = Math.max(...got.map((id) => distances[id - 10]!));
    const closer = distances.flatMap((d, i) => (d < worst ? [i + 10] : []));
    expect(closer.every((id) => got.includes(id))).toBe(true);
    expect(got.every((id) => distances[id - 10]! <= worst)).toBe(true);
    expect(index.nearest(query, 10_000, 10_000)).toHaveLength(3000);
  });

  it('ranks the preselected codes by the asymmetric estimate', () => {
    const index = build();
    const rotated = rotate(query);
    const estimate = (code: Uint8Array) =>
      Array.from(rotated).reduce((sum, x, j) => sum + ((code[j >> 3]! >> (j & 7)) & 1 ? x : 0), 0);
    // Everything preselected: the top 20 by the estimate over all codes.
    const expected = codes
      .map((code, i) => ({ id: i + 10, score: estimate(code) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 20)
      .map((entry) => entry.id)
      .sort((a, b) => a - b);
    // The set matters (exact rescoring orders it), not the order.
    expect(index.nearest(query, 20, 3000).sort((a, b) => a - b)).toEqual(expected);
  });

  it('grows its memory as codes are added, and keeps earlier codes intact', () => {
    const index = new BinaryIndex(64);
    const first = randomUnit(64, 5);
    index.add(1, signCode(first));
    for (let i = 2; i < 20_000; i++) index.add(i, signCode(randomUnit(64, i + 100)));
    expect(index.nearest(first, 1, 1)).toEqual([1]);
  });

  it('refuses a code of the wrong size', () => {
    expect(() => new BinaryIndex(384).add(1, new Uint8Array(48))).toThrow('code of 48 bytes; expected 64');
  });
});

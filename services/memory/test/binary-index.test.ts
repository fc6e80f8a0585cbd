import { describe, expect, it } from 'vitest';

import { BinaryIndex, codeBits, signCode } from '../src/binary-index.js';
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
  it('scans in WebAssembly exactly as a JavaScript popcount would, and picks the k nearest', () => {
    const index = new BinaryIndex(384);
    const codes = Array.from({ length: 3000 }, (_, i) => signCode(randomUnit(384, i + 1)));
    codes.forEach((code, i) => index.add(i + 10, code));
    expect(index.size).toBe(3000);
    expect(index.maxId).toBe(3009);
    const query = signCode(randomUnit(384, 99_999));
    const distances = codes.map((code, i) => ({ id: i + 10, d: hamming(code, query) }));
    const k = 50;
    const got = index.nearest(query, k);
    expect(got).toHaveLength(k);
    const worst = Math.max(...got.map((id) => distances[id - 10]!.d));
    // Every code strictly closer than the worst one taken was taken.
    const closer = distances.filter((entry) => entry.d < worst).map((entry) => entry.id);
    expect(closer.every((id) => got.includes(id))).toBe(true);
    expect(index.nearest(query, 10_000)).toHaveLength(3000);
  });

  it('grows its memory as codes are added, and keeps earlier codes intact', () => {
    const index = new BinaryIndex(64);
    const first = signCode(randomUnit(64, 5));
    index.add(1, first);
    for (let i = 2; i < 20_000; i++) index.add(i, signCode(randomUnit(64, i + 100)));
    expect(index.nearest(first, 1)).toEqual([1]);
  });

  it('refuses a code of the wrong size', () => {
    expect(() => new BinaryIndex(384).add(1, new Uint8Array(48))).toThrow('code of 48 bytes; expected 64');
  });
});

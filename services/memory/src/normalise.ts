/**
 * Every caller-supplied value is checked and put in one canonical form here, before it reaches SQL:
 * content (trimmed, bounded, hashed), tags and type (one spelling), metadata (bounded JSON), hashes
 * (64 hex digits), conversation ids and dates. Plain domain code: no MCP or server imports.
 */
import { createHash } from 'node:crypto';

import { MemoryError, show } from './errors.js';

export interface Limits {
  maxContentBytes: number;
  maxMetadataBytes: number;
  maxTags: number;
  maxTagLength: number;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Dedup normalisation: leading and trailing whitespace (String.prototype.trim: Unicode White_Space
 * and line terminators) is removed; everything inside stays byte for byte (no case folding, no
 * Unicode normalisation), so two memories that differ in any inner character are two memories.
 */
export function normaliseContent(content: string, limits: Pick<Limits, 'maxContentBytes'>): string {
  const trimmed = content.trim();
  if (trimmed.length === 0) throw new MemoryError('INVALID_INPUT', 'content is empty (only whitespace)');
  if (trimmed.includes('\u0000')) throw new MemoryError('INVALID_INPUT', 'content contains a NUL character');
  const bytes = Buffer.byteLength(trimmed, 'utf8');
  if (bytes > limits.maxContentBytes) {
    throw new MemoryError(
      'PAYLOAD_TOO_LARGE',
      `content is ${bytes} bytes; the limit is ${limits.maxContentBytes} (MEMORY_MAX_CONTENT_BYTES)`,
    );
  }
  if (LONE_SURROGATE.test(trimmed)) {
    throw new MemoryError('INVALID_INPUT', 'content contains a lone surrogate (not valid Unicode)');
  }
  return trimmed;
}

/** The content hash: SHA-256 of the normalised content's UTF-8 bytes, 64 lowercase hex digits. */
export function contentHash(normalised: string): string {
  return createHash('sha256').update(normalised, 'utf8').digest('hex');
}

const HASH = /^[0-9a-f]{64}$/;

/** A hash from a caller: 64 hex digits (either case; answered in lowercase). */
export function parseHash(hash: string): string {
  const lower = hash.trim().toLowerCase();
  if (!HASH.test(lower)) {
    throw new MemoryError('INVALID_INPUT', `hash ${show(hash)} is not a content hash (64 hexadecimal digits)`);
  }
  return lower;
}

// Letters, marks and digits of any script, and - _ . : / inside.
const TAG = /^[\p{L}\p{M}\p{N}](?:[\p{L}\p{M}\p{N}._:/-]*[\p{L}\p{M}\p{N}])?$/u;

/**
 * One spelling per tag: Unicode NFKC, lowercased, trimmed, inner runs of whitespace as one "-":
 * "Project X" → "project-x", "ＰＲＯＪＥＣＴ" → "project". Then it must be 1..maxLength characters
 * of letters, digits and `- _ . : /` (those inside only), else the caller hears which tag and why.
 */
export function normaliseTag(tag: string, maxLength: number): string {
  const folded = tag.normalize('NFKC').toLowerCase().trim().replace(/\s+/gu, '-');
  if (folded.length === 0) throw new MemoryError('INVALID_INPUT', 'a tag is empty');
  if ([...folded].length > maxLength) {
    throw new MemoryError(
      'INVALID_INPUT',
      `tag ${show(tag)} is longer than ${maxLength} characters (MEMORY_MAX_TAG_LENGTH)`,
    );
  }
  if (!TAG.test(folded)) {
    throw new MemoryError(
      'INVALID_INPUT',
      `tag ${show(tag)} may only hold letters, digits and - _ . : / (not at the start or end)`,
    );
  }
  return folded;
}

/** Normalised, deduplicated, sorted tags; at most maxTags. */
export function normaliseTags(tags: readonly string[], limits: Pick<Limits, 'maxTags' | 'maxTagLength'>): string[] {
  if (tags.length > limits.maxTags * 4) {
    throw new MemoryError('INVALID_INPUT', `${tags.length} tags; at most ${limits.maxTags} (MEMORY_MAX_TAGS)`);
  }
  const unique = [...new Set(tags.map((tag) => normaliseTag(tag, limits.maxTagLength)))].sort();
  if (unique.length > limits.maxTags) {
    throw new MemoryError('INVALID_INPUT', `${unique.length} tags; at most ${limits.maxTags} (MEMORY_MAX_TAGS)`);
  }
  return unique;
}

/** A memory's type follows the tag rules (one spelling), at most 64 characters. */
export function normaliseType(type: string): string {
  return normaliseTag(type, 64);
}

const MAX_METADATA_DEPTH = 16;

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_METADATA_DEPTH) return depth;
  if (value === null || typeof value !== 'object') return depth;
  let deepest = depth + 1;
  for (const inner of Object.values(value)) deepest = Math.max(deepest, depthOf(inner, depth + 1));
  return deepest;
}

/** Metadata: a JSON object, compact JSON at most maxMetadataBytes, nested at most 16 deep. Returns its JSON text. */
export function normaliseMetadata(metadata: Record<string, unknown>, limits: Pick<Limits, 'maxMetadataBytes'>): string {
  if (depthOf(metadata) > MAX_METADATA_DEPTH) {
    throw new MemoryError('INVALID_INPUT', `metadata is nested more than ${MAX_METADATA_DEPTH} levels deep`);
  }
  let text: string;
  try {
    text = JSON.stringify(metadata);
  } catch {
    throw new MemoryError('INVALID_INPUT', 'metadata is not representable as JSON');
  }
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxMetadataBytes) {
    throw new MemoryError(
      'PAYLOAD_TOO_LARGE',
      `metadata is ${bytes} bytes of JSON; the limit is ${limits.maxMetadataBytes} (MEMORY_MAX_METADATA_BYTES)`,
    );
  }
  return text;
}

/** A conversation id: 1..256 printable characters (no control characters). */
export function normaliseConversationId(id: string): string {
  const trimmed = id.trim();
  if (trimmed.length === 0 || trimmed.length > 256 || /\p{Cc}/u.test(trimmed)) {
    throw new MemoryError('INVALID_INPUT', `conversation_id ${show(id)} must be 1 to 256 printable characters`);
  }
  return trimmed;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 date or date-time (a bare date is midnight UTC; a time without a zone is UTC). Epoch ms. */
export function parseInstant(value: string, name: string): number {
  const text = value.trim();
  if (!ISO_DATE.test(text)) {
    throw new MemoryError(
      'INVALID_INPUT',
      `${name} ${show(value)} is not an ISO 8601 date (2026-03-01 or 2026-03-01T12:00:00Z)`,
    );
  }
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) || text.length === 10 ? text : `${text}Z`;
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : zoned.replace(' ', 'T'));
  // Date.parse rolls 2026-02-30 over to March; a date must name a real day.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const real = new Date(Date.UTC(year, month - 1, day));
  if (!Number.isFinite(ms) || real.getUTCMonth() !== month - 1 || real.getUTCDate() !== day)
    throw new MemoryError('INVALID_INPUT', `${name} ${show(value)} is not a real date`);
  return ms;
}

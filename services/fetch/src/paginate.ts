import { FetchError } from '@mcp-sse/net-guard/errors';

export interface Page {
  content: string;
  start_index: number;
  /** Length of the whole converted content, in UTF-16 code units (JavaScript string length). */
  total_length: number;
  /** Where the next page starts; absent on the last page. */
  next_start_index?: number;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Cuts one page out of converted content. Indices are string indices; a cut never splits a
 * surrogate pair, so every page is valid UTF-16 on its own.
 */
export function paginate(content: string, startIndex: number, maxLength: number): Page {
  if (!Number.isInteger(startIndex) || startIndex < 0) {
    throw new FetchError('INVALID_INPUT', `start_index must be a non-negative integer (got ${startIndex})`);
  }
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new FetchError('INVALID_INPUT', `max_length must be a positive integer (got ${maxLength})`);
  }
  const total = content.length;
  if (startIndex > 0 && startIndex >= total) {
    throw new FetchError(
      'INVALID_INPUT',
      `start_index ${startIndex} is past the end of the content (total_length ${total})`,
    );
  }
  let start = startIndex;
  // A start inside a pair (only possible with a hand-made index) moves back to the pair's start.
  if (start > 0 && start < total && isHighSurrogate(content.charCodeAt(start - 1))) start -= 1;
  let end = Math.min(start + maxLength, total);
  if (end < total && isHighSurrogate(content.charCodeAt(end - 1))) {
    // Keep the pair whole: drop it to the next page, or (max_length 1) take both halves.
    end = end - 1 > start ? end - 1 : end + 1;
  }
  const page: Page = { content: content.slice(start, end), start_index: start, total_length: total };
  if (end < total) page.next_start_index = end;
  return page;
}

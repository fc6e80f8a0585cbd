import { FetchError } from '@mcp-sse/net-guard/errors';

import { decodeText, isHtmlType, isTextual, looksLikeHtml, parseContentType } from './decode-body.js';
import type { FetchFormat } from './formats.js';
import { extractMainContent, htmlToMarkdown, htmlToText } from './html-to-markdown.js';
import { paginate } from './paginate.js';

/**
 * A fetched body → the page a tool returns: decoded, converted to the asked format, paginated, and
 * cut to the bytes the answer has room for. No I/O and no core imports: it runs in the conversion
 * worker (convert-worker.ts), where a hostile page can only use up that worker's time and heap.
 */

export { type FetchFormat, FORMATS } from './formats.js';

export interface ConvertRequest {
  body: Uint8Array;
  contentType: string | undefined;
  /** The body was cut at FETCH_MAX_BODY_BYTES. */
  truncated: boolean;
  finalUrl: string;
  format: FetchFormat;
  startIndex: number;
  maxLength: number;
  /** Most bytes the content and the title may weigh as JSON (the answer's room for them). */
  maxContentBytes: number;
}

export interface ConvertedPage {
  title?: string;
  content: string;
  start_index: number;
  total_length: number;
  next_start_index?: number;
  /** The page was cut shorter than max_length to fit the answer's byte budget. */
  cutToBudget: boolean;
}

/** A page title is cut to this many characters. */
const TITLE_CHARS = 300;

/** JSON nested deeper than this is returned as served rather than re-indented. */
const JSON_MAX_DEPTH = 64;

/**
 * Pretty-prints parsed JSON unless that would be costly: too deep (JSON.stringify recurses), or an
 * indentation that would multiply the size (deep, dense arrays): then the text is returned as
 * served (it is valid JSON, since it parsed). The estimate walks the value without recursion.
 */
function prettyJson(text: string, parsed: unknown): string {
  let extra = 0;
  const stack: [unknown, number][] = [[parsed, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (depth > JSON_MAX_DEPTH) return text;
    if (value === null || typeof value !== 'object') continue;
    const children = Array.isArray(value) ? (value as unknown[]) : Object.values(value);
    // Each member goes on its own line, indented two spaces per level (plus brackets and commas).
    extra += children.length * (2 * (depth + 1) + 2) + 2 * depth + 2;
    if (extra > Math.max(3 * text.length, 1024 * 1024)) return text;
    for (const child of children) stack.push([child, depth + 1]);
  }
  return JSON.stringify(parsed, null, 2);
}

function convertBody(request: ConvertRequest): { content: string; title?: string } {
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  const contentType = parseContentType(request.contentType);
  const html = isHtmlType(contentType.mimeType) || (contentType.mimeType === '' && looksLikeHtml(body));
  if (!html && !isTextual(contentType.mimeType, body)) {
    throw new FetchError(
      'UNSUPPORTED_CONTENT',
      `the response is ${contentType.mimeType || 'binary data'}, not text; fetch returns text, HTML and JSON only`,
    );
  }
  const text = decodeText(body, contentType, request.truncated, html);
  switch (request.format) {
    case 'raw':
      return { content: text };
    case 'json': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        const cut = request.truncated ? ' (the body was cut at FETCH_MAX_BODY_BYTES)' : '';
        throw new FetchError(
          'UNSUPPORTED_CONTENT',
          `the response (${contentType.mimeType || 'no content type'}) is not valid JSON${cut}; use format "raw" or "text"`,
        );
      }
      return { content: prettyJson(text, parsed) };
    }
    case 'markdown':
    case 'text':
    case 'html': {
      if (!html) return { content: text };
      const extracted = extractMainContent(text, request.finalUrl);
      const content =
        request.format === 'html'
          ? extracted.html
          : request.format === 'markdown'
            ? htmlToMarkdown(extracted.html, extracted.title)
            : htmlToText(extracted.html);
      return extracted.title === undefined ? { content } : { content, title: extracted.title };
    }
  }
}

/** UTF-8 bytes a character adds to a JSON string (`"` and `\` escaped, controls as \n or \u00XX). */
function jsonCharBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  return 3; // a surrogate half counts 3 (a pair, 6, is the 4 bytes of UTF-8 or less); a lone one is 6 in JSON
}

/** How many UTF-16 units of `text` fit in `maxBytes` of JSON string (quotes not counted); linear. */
export function jsonFitLength(text: string, maxBytes: number): number {
  let used = 0;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    const lone =
      code >= 0xd800 &&
      code <= 0xdfff &&
      !(code <= 0xdbff && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) &&
      !(code >= 0xdc00 && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800);
    used += lone ? 6 : jsonCharBytes(code);
    if (used > maxBytes) {
      // Never end between the halves of a pair.
      return index > 0 && (text.charCodeAt(index - 1) & 0xfc00) === 0xd800 ? index - 1 : index;
    }
  }
  return text.length;
}

export function convertPage(request: ConvertRequest): ConvertedPage {
  const converted = convertBody(request);
  const page = paginate(converted.content, request.startIndex, request.maxLength);
  const title = converted.title === undefined ? undefined : converted.title.slice(0, TITLE_CHARS);
  const room = request.maxContentBytes - (title === undefined ? 0 : Buffer.byteLength(JSON.stringify(title)) + 10);
  // At least one character, so that next_start_index always moves on.
  const fit = Math.max(jsonFitLength(page.content, room), Math.min(page.content.length, 1));
  let cutToBudget = false;
  if (fit < page.content.length) {
    cutToBudget = true;
    page.content = page.content.slice(0, fit);
    page.next_start_index = page.start_index + fit;
  }
  return { ...(title === undefined ? {} : { title }), ...page, cutToBudget };
}

import { TextDecoder } from 'node:util';

/**
 * Bytes → text: the content type decides whether a body is text at all, and the charset comes from
 * the header, a BOM, or (for HTML) a <meta> in the first bytes, in that order; UTF-8 otherwise.
 */

export interface ContentType {
  /** Lower-case `type/subtype`, or '' when the header is missing. */
  mimeType: string;
  charset: string | undefined;
}

export function parseContentType(header: string | undefined): ContentType {
  if (header === undefined) return { mimeType: '', charset: undefined };
  const [type = '', ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [name, ...value] = param.split('=');
    if (name?.trim().toLowerCase() === 'charset') {
      charset =
        value
          .join('=')
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .toLowerCase() || undefined;
    }
  }
  return { mimeType: type.trim().toLowerCase(), charset };
}

const TEXT_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/x-sh',
  'application/sql',
  'application/graphql',
  'application/x-ndjson',
  'application/csv',
]);

export function isHtmlType(mimeType: string): boolean {
  return mimeType === 'text/html' || mimeType === 'application/xhtml+xml';
}

/** HTML served without a usable content type, recognised by its first tag. */
export function looksLikeHtml(body: Buffer): boolean {
  const head = body.subarray(0, 512).toString('latin1').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head');
}

/** No NUL byte in the first 4 KiB and valid UTF-8 there: what browsers and file(1) call text. */
function sniffText(body: Buffer): boolean {
  const sample = body.subarray(0, 4096);
  if (sample.includes(0)) return false;
  try {
    // A multi-byte character cut at the end of the sample is fine; drop up to 3 trailing bytes.
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, Math.max(0, sample.length - 3)));
    return true;
  } catch {
    return false;
  }
}

/** Whether a body of this type is text that fetch can return. */
export function isTextual(mimeType: string, body: Buffer): boolean {
  if (mimeType.startsWith('text/')) return true;
  if (TEXT_TYPES.has(mimeType) || mimeType.endsWith('+json') || mimeType.endsWith('+xml')) return true;
  if (mimeType === '' || mimeType === 'application/octet-stream') return sniffText(body);
  return false;
}

function sniffBom(body: Buffer): string | undefined {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return 'utf-8';
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  return undefined;
}

function sniffMetaCharset(body: Buffer): string | undefined {
  const head = body.subarray(0, 2048).toString('latin1');
  const direct = /<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)/i.exec(head);
  return direct?.[1]?.toLowerCase();
}

function decoderFor(label: string | undefined): TextDecoder | undefined {
  if (label === undefined) return undefined;
  try {
    return new TextDecoder(label);
  } catch {
    return undefined; // unknown label: fall through to the next source
  }
}

/** Decodes a body to text. A character cut by the body cap is dropped, not shown as U+FFFD. */
export function decodeText(body: Buffer, contentType: ContentType, truncated: boolean, html: boolean): string {
  const decoder =
    decoderFor(sniffBom(body)) ??
    decoderFor(contentType.charset) ??
    (html ? decoderFor(sniffMetaCharset(body)) : undefined) ??
    new TextDecoder('utf-8');
  const text = decoder.decode(body);
  return truncated ? text.replace(/\uFFFD+$/, '') : text;
}

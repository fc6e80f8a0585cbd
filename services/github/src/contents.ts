import { z } from 'zod';

import type { Call, GitHub, RepoRef } from './context.js';
import { GitHubError, showValue } from './github-error.js';
import { untrustedFields } from './shapes.js';
import { readPrefix } from './streams.js';
import { fitList, fitText, UNTRUSTED } from './text.js';

let mimeModule: Promise<{ lookup(name: string): string | false }> | undefined;

/**
 * mime-types, loaded by the first binary file read rather than at start (its database is about 5 MB
 * resident). CommonJS through import(): its exports are `default`, in a bundle and out of one.
 */
function mimeTypes(): Promise<{ lookup(name: string): string | false }> {
  mimeModule ??= import('mime-types').then((module) => module.default);
  return mimeModule;
}

/** GitHub lists at most this many entries of a directory through the contents API. */
const DIRECTORY_LIMIT = 1000;
/** Bytes looked at to tell text from binary (as git does: a NUL byte means binary). */
const SNIFF_BYTES = 8000;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes GitHub's base64 `content` (lines of 60 characters), at most `maxBytes` of it: only the
 * base64 characters needed for those bytes are decoded. Malformed base64 (anything Buffer would
 * silently skip) is refused rather than decoded into something else.
 */
export function decodeBase64Prefix(content: string, maxBytes: number): { bytes: Buffer; size: number } {
  const compact = content.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new GitHubError('UPSTREAM_FAILED', "GitHub's answer holds malformed base64 content");
  }
  const padding = compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0;
  const size = (compact.length / 4) * 3 - padding;
  const needed = Math.min(compact.length, Math.ceil(maxBytes / 3) * 4);
  const bytes = Buffer.from(compact.slice(0, needed), 'base64').subarray(0, maxBytes);
  return { bytes, size };
}

/**
 * The bytes as UTF-8 text, or undefined when they are binary: a NUL byte in the first 8000, or
 * bytes that are not UTF-8. When the bytes are only a prefix (`complete` false), a character cut at
 * the end is dropped, not taken for binary.
 */
export function textOf(bytes: Buffer, complete: boolean): string | undefined {
  if (bytes.subarray(0, SNIFF_BYTES).includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !complete });
  } catch {
    return undefined;
  }
}

const entrySchema = z.object({
  name: z.string(),
  path: z.string(),
  type: z.string().describe('file, dir, symlink or submodule'),
  size: z.number().int(),
  sha: z.string(),
});

export const fileContentsSchema = z.object({
  type: z.enum(['file', 'dir', 'symlink', 'submodule']),
  path: z.string(),
  ref: z.string().optional(),
  sha: z.string().optional().describe("The blob SHA (a file), needed to update it; the tree's for nothing else"),
  size: z.number().int().optional().describe('File size in bytes'),
  encoding: z.literal('utf-8').optional().describe('Present when content is text'),
  content: z.string().nullable().optional().describe('The text of a file; null for a binary file'),
  binary: z.boolean().optional().describe('The file is binary: its bytes are not returned'),
  media_type: z.string().optional().describe('Media type guessed from the file name (binary files)'),
  entries: z.array(entrySchema).optional().describe('A directory: its entries'),
  omitted: z.number().int().optional().describe('Entries left out to fit MCP_MAX_RESULT_BYTES'),
  target: z.string().optional().describe('A symlink: where it points'),
  submodule_git_url: z.string().optional(),
  html_url: z.string().nullable().optional(),
  truncated: z
    .boolean()
    .describe('The content was cut (GITHUB_MAX_FILE_BYTES or the answer size limit), or entries were left out'),
  ...untrustedFields,
});
export type FileContentsOut = z.infer<typeof fileContentsSchema>;

interface GhContentItem {
  type: string;
  name: string;
  path: string;
  size: number;
  sha: string;
  html_url?: string | null;
  encoding?: string;
  content?: string;
  target?: string;
  submodule_git_url?: string;
}

export interface FileArgs extends RepoRef {
  path: string;
  ref?: string | undefined;
}

function describe({ owner, repo, path, ref }: FileArgs): string {
  return `path ${showValue(path || '/')}${ref !== undefined ? ` at ${showValue(ref)}` : ''} in repository ${owner}/${repo}`;
}

/**
 * GET /repos/{owner}/{repo}/contents/{path}: a file as text with its sha, a directory as a listing,
 * a binary file as its size and type. Files GitHub does not inline (over 1 MB: `encoding: "none"`)
 * are read raw, as far as GITHUB_MAX_FILE_BYTES.
 */
export async function getFileContents(gh: GitHub, call: Call, args: FileArgs): Promise<FileContentsOut> {
  const { owner, repo, path, ref } = args;
  const params = { owner, repo, path, ref };
  const { data } = await gh.client.call(describe(args), () =>
    gh.client.rest.repos.getContent({ ...params, request: gh.client.requestOptions(call) }),
  );
  const base = { path, ...(ref !== undefined && { ref }) };
  if (Array.isArray(data)) {
    const entries = (data as GhContentItem[]).map((item) => ({
      name: item.name,
      path: item.path,
      type: item.type,
      size: item.size,
      sha: item.sha,
    }));
    const answer = {
      type: 'dir' as const,
      ...base,
      entries,
      truncated: entries.length >= DIRECTORY_LIMIT,
      ...UNTRUSTED,
    };
    return fitList(answer, 'entries', call.budget);
  }
  const item = data as GhContentItem;
  const common = { ...base, path: item.path, sha: item.sha, size: item.size, html_url: item.html_url ?? null };
  if (item.type === 'symlink') {
    return { type: 'symlink', ...common, target: item.target ?? '', truncated: false, ...UNTRUSTED };
  }
  if (item.type === 'submodule') {
    return {
      type: 'submodule',
      ...common,
      submodule_git_url: item.submodule_git_url ?? '',
      truncated: false,
      ...UNTRUSTED,
    };
  }
  if (item.type !== 'file') {
    throw new GitHubError('UPSTREAM_FAILED', `GitHub answered with an unknown content type for ${describe(args)}`);
  }
  const max = gh.limits.fileBytes;
  let bytes: Buffer;
  let complete: boolean;
  if (item.encoding === 'base64' && typeof item.content === 'string' && (item.content.length > 0 || item.size === 0)) {
    const decoded = decodeBase64Prefix(item.content, max);
    if (decoded.size !== item.size) {
      throw new GitHubError(
        'UPSTREAM_FAILED',
        `GitHub's answer for ${describe(args)} is inconsistent: ${decoded.size} bytes of content for a file of ${item.size}`,
      );
    }
    bytes = decoded.bytes;
    complete = decoded.size <= max;
  } else {
    // Over 1 MB GitHub leaves the content out (`encoding: "none"`); the raw media type streams it.
    const { data: body } = await gh.client.call(describe(args), () =>
      gh.client.rest.repos.getContent({
        ...params,
        mediaType: { format: 'raw' },
        request: gh.client.requestOptions(call, { stream: true }),
      }),
    );
    ({ bytes, complete } = await readPrefix(body as unknown as ReadableStream<Uint8Array>, max));
  }
  const text = textOf(bytes, complete);
  if (text === undefined) {
    return {
      type: 'file',
      ...common,
      binary: true,
      content: null,
      media_type: (await mimeTypes()).lookup(item.name) || 'application/octet-stream',
      truncated: false,
      ...UNTRUSTED,
    };
  }
  const answer = {
    type: 'file' as const,
    ...common,
    encoding: 'utf-8' as const,
    content: text,
    truncated: !complete,
    ...UNTRUSTED,
  };
  return fitText(answer, 'content', call.budget);
}

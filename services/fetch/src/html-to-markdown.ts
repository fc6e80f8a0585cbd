import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import TurndownService from 'turndown';

import { boundHtml, STRIPPED as STRIPPED_SET } from './bound-html.js';

/**
 * HTML → main content → markdown or text. The page is first re-written with bounded depth, element
 * count and attributes (bound-html.ts: a linear pass, so no page can make the DOM work below slow),
 * parsed with linkedom, every link and image made absolute against the page's final URL (or its
 * <base>), readability picks the main content (the body when it finds nothing, or when the page has
 * more than READABILITY_MAX_ELEMENTS elements), and turndown writes markdown. Every step is linear
 * or bounded by those limits; the conversion runs in a worker thread (convert-pool.ts) all the same.
 */

export interface ExtractedContent {
  title: string | undefined;
  /** HTML of the main content; every link and image URL absolute. */
  html: string;
  /** True when readability found the main content; false when the whole body was used. */
  usedReadability: boolean;
}

/** The DOM surface this module touches; linkedom and turndown's domino both provide it. */
interface MiniNode {
  nodeName: string;
  nodeType: number;
  textContent: string | null;
  parentNode: MiniNode | null;
  childNodes: ArrayLike<MiniNode>;
  previousSibling: MiniNode | null;
}

interface MiniElement extends MiniNode {
  getAttribute(name: string): string | null;
  setAttribute(name: string, value: string): void;
  removeAttribute(name: string): void;
  remove(): void;
}

interface MiniDocument {
  title: string;
  body: (MiniElement & { innerHTML: string }) | null;
  querySelector(selector: string): MiniElement | null;
  querySelectorAll(selector: string): Iterable<MiniElement>;
}

/** linkedom's typings name DOM types this Node-only project does not load; this is the part used. */
function parseDocument(html: string): MiniDocument {
  return (parseHTML(boundHtml(html)) as unknown as { document: MiniDocument }).document;
}

/**
 * Readability is superlinear on large documents (17 s on 44 000 elements): past this many elements
 * the whole body is used. Counted here: its own maxElemsToParse counts getElementsByTagName('*'),
 * which linkedom answers with 0.
 */
export const READABILITY_MAX_ELEMENTS = 10_000;

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;

/** Dropped by boundHtml already; turndown is told too, for HTML that did not come through it. */
const STRIPPED = [...STRIPPED_SET];

const URL_ATTRIBUTES: [selector: string, attribute: string][] = [
  ['a[href]', 'href'],
  ['area[href]', 'href'],
  ['img[src]', 'src'],
  ['video[src]', 'src'],
  ['video[poster]', 'poster'],
  ['audio[src]', 'src'],
  ['source[src]', 'src'],
  ['track[src]', 'src'],
  ['blockquote[cite]', 'cite'],
  ['q[cite]', 'cite'],
];

function absolutize(value: string, base: URL): string | undefined {
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  let resolved: URL;
  try {
    resolved = new URL(trimmed, base);
  } catch {
    return undefined;
  }
  // Only web and mail links survive; javascript:, data:, vbscript: and the like are dropped.
  if (!['http:', 'https:', 'mailto:'].includes(resolved.protocol)) return undefined;
  return resolved.href;
}

function absolutizeSrcset(value: string, base: URL): string | undefined {
  const candidates = value
    .split(',')
    .map((candidate) => candidate.trim())
    .filter((candidate) => candidate.length > 0)
    .map((candidate) => {
      const [url = '', ...descriptor] = candidate.split(/\s+/);
      const absolute = absolutize(url, base);
      return absolute === undefined ? undefined : [absolute, ...descriptor].join(' ');
    })
    .filter((candidate): candidate is string => candidate !== undefined);
  return candidates.length === 0 ? undefined : candidates.join(', ');
}

/** Extracts the title and main content of a page, with links and images made absolute. */
export function extractMainContent(html: string, pageUrl: string): ExtractedContent {
  const document = parseDocument(html);
  let base = new URL(pageUrl);
  const baseHref = document.querySelector('base[href]')?.getAttribute('href');
  if (baseHref) {
    const resolved = absolutize(baseHref, base);
    if (resolved !== undefined && !resolved.startsWith('mailto:')) base = new URL(resolved);
  }

  for (const [selector, attribute] of URL_ATTRIBUTES) {
    for (const element of document.querySelectorAll(selector)) {
      const absolute = absolutize(element.getAttribute(attribute) ?? '', base);
      if (absolute === undefined) element.removeAttribute(attribute);
      else element.setAttribute(attribute, absolute);
    }
  }
  for (const element of document.querySelectorAll('img[srcset], source[srcset]')) {
    const absolute = absolutizeSrcset(element.getAttribute('srcset') ?? '', base);
    if (absolute === undefined) element.removeAttribute('srcset');
    else element.setAttribute('srcset', absolute);
  }

  const documentTitle = document.title.trim() || undefined;
  // Readability rewrites the document it is given, so keep the body for the fallback first.
  const bodyHtml = document.body?.innerHTML ?? '';
  let article: ReturnType<Readability['parse']> = null;
  const elements = Array.from(document.querySelectorAll('*')).length;
  if (elements <= READABILITY_MAX_ELEMENTS) {
    try {
      article = new Readability(document, { keepClasses: false }).parse();
    } catch {
      // Readability throws on some malformed trees; the body is still usable.
      article = null;
    }
  }
  const articleText = article?.textContent?.trim() ?? '';
  if (article && article.content && articleText.length > 0) {
    // The page's own <title> is kept as is: readability's title clean-up cuts at ':' and '-' heuristically.
    return {
      title: documentTitle ?? (article.title?.trim() || undefined),
      html: article.content,
      usedReadability: true,
    };
  }
  return { title: documentTitle, html: bodyHtml, usedReadability: false };
}

// ---------------------------------------------------------------------------------------------
// Markdown

const asNode = (node: unknown) => node as MiniNode;

function isCell(node: MiniNode): boolean {
  return node.nodeName === 'TD' || node.nodeName === 'TH';
}

function elementChildren(node: MiniNode): MiniNode[] {
  return Array.from(node.childNodes).filter((child) => child.nodeType === ELEMENT_NODE);
}

// Table facts are computed once per table and row (WeakMaps), so a giant table costs linear time;
// asked per cell, as turndown's rules do, they were quadratic.
const tableOf = new WeakMap<MiniNode, MiniNode | null>();
const rowsOf = new WeakMap<MiniNode, MiniNode[]>();
const layoutOf = new WeakMap<MiniNode, boolean>();
const firstCellOf = new WeakMap<MiniNode, MiniNode | undefined>();

/** The nearest enclosing table (depth is bounded by boundHtml, and the answer is cached). */
function closestTable(node: MiniNode): MiniNode | undefined {
  const cached = tableOf.get(node);
  if (cached !== undefined) return cached ?? undefined;
  let found: MiniNode | null = null;
  for (let current = node.parentNode; current; current = current.parentNode) {
    if (current.nodeName === 'TABLE') {
      found = current;
      break;
    }
  }
  tableOf.set(node, found);
  return found ?? undefined;
}

function tableRows(table: MiniNode): MiniNode[] {
  const cached = rowsOf.get(table);
  if (cached) return cached;
  const rows: MiniNode[] = [];
  for (const child of elementChildren(table)) {
    if (child.nodeName === 'TR') rows.push(child);
    else if (['THEAD', 'TBODY', 'TFOOT'].includes(child.nodeName)) {
      rows.push(...elementChildren(child).filter((row) => row.nodeName === 'TR'));
    }
  }
  rowsOf.set(table, rows);
  return rows;
}

/** A table with at most one cell is layout (a framed note), not data: keep its content as is. */
function isLayoutTable(table: MiniNode): boolean {
  const cached = layoutOf.get(table);
  if (cached !== undefined) return cached;
  const rows = tableRows(table);
  const layout = rows.length <= 1 && rows.every((row) => elementChildren(row).filter(isCell).length <= 1);
  layoutOf.set(table, layout);
  return layout;
}

function isDataTableNode(node: MiniNode, names: string[]): boolean {
  if (!names.includes(node.nodeName)) return false;
  const table = node.nodeName === 'TABLE' ? node : closestTable(node);
  return table !== undefined && !isLayoutTable(table);
}

function firstCell(row: MiniNode): MiniNode | undefined {
  if (firstCellOf.has(row)) return firstCellOf.get(row);
  const first = elementChildren(row).find(isCell);
  firstCellOf.set(row, first);
  return first;
}

function tableCell(content: string, cell: MiniNode): string {
  const prefix = firstCell(cell.parentNode ?? cell) === cell ? '| ' : ' ';
  return `${prefix}${content
    .trim()
    .replace(/\s*\n+\s*/g, ' ')
    .replace(/\|/g, '\\|')} |`;
}

function createTurndown(): TurndownService {
  const service = new TurndownService({
    headingStyle: 'atx',
    codeBlockStyle: 'fenced',
    bulletListMarker: '-',
    emDelimiter: '_',
    hr: '---',
    // An empty cell is "blank" to turndown and would lose its pipe.
    blankReplacement: (_content, node) => {
      const n = asNode(node);
      if (isDataTableNode(n, ['TD', 'TH'])) return tableCell('', n);
      return (node as unknown as { isBlock?: boolean }).isBlock ? '\n\n' : '';
    },
  });
  service.remove((node) => STRIPPED.includes(asNode(node).nodeName.toLowerCase()));

  // GitHub-flavoured tables (turndown has none built in; turndown-plugin-gfm is not a dependency).
  // addRule prepends, so the later a rule is added the higher its priority: generic rules first.
  service.addRule('tableLayout', {
    filter: (node) => ['TD', 'TH', 'TR', 'THEAD', 'TBODY', 'TFOOT'].includes(asNode(node).nodeName),
    replacement: (content) => content,
  });
  service.addRule('table', {
    filter: (node) => asNode(node).nodeName === 'TABLE',
    replacement: (content, node) =>
      isLayoutTable(asNode(node)) ? `\n\n${content.trim()}\n\n` : `\n\n${content.replace(/\n+/g, '\n').trim()}\n\n`,
  });
  service.addRule('tableSection', {
    filter: (node) => isDataTableNode(asNode(node), ['THEAD', 'TBODY', 'TFOOT']),
    replacement: (content) => content,
  });
  service.addRule('tableRow', {
    filter: (node) => isDataTableNode(asNode(node), ['TR']),
    replacement: (content, node) => {
      const row = asNode(node);
      const table = closestTable(row);
      const first = table !== undefined && tableRows(table)[0] === row;
      const width = Math.max(1, elementChildren(row).filter(isCell).length);
      const separator = first ? `\n|${' --- |'.repeat(width)}` : '';
      return `\n${content}${separator}`;
    },
  });
  service.addRule('tableCell', {
    filter: (node) => isDataTableNode(asNode(node), ['TD', 'TH']),
    replacement: (content, node) => tableCell(content, asNode(node)),
  });

  // <pre> without a <code> child (texinfo, old docs): still a fenced block.
  service.addRule('preformatted', {
    filter: (node) => {
      const n = asNode(node);
      return n.nodeName === 'PRE' && !elementChildren(n).some((child) => child.nodeName === 'CODE');
    },
    replacement: (_content, node) => {
      const text = (asNode(node).textContent ?? '').replace(/^\n+/, '').replace(/\n+$/, '');
      const fence = text.includes('```') ? '~~~~' : '```';
      return `\n\n${fence}\n${text}\n${fence}\n\n`;
    },
  });
  return service;
}

let turndown: TurndownService | undefined;

/** Converts (already extracted) HTML to markdown; prepends the title as a heading when absent. */
export function htmlToMarkdown(contentHtml: string, title?: string): string {
  turndown ??= createTurndown();
  const markdown = turndown
    .turndown(contentHtml)
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  if (title && !markdown.slice(0, title.length + 200).includes(title)) return `# ${title}\n\n${markdown}`;
  return markdown;
}

// ---------------------------------------------------------------------------------------------
// Plain text

const BLOCKS = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'DD',
  'DETAILS',
  'DIV',
  'DL',
  'DT',
  'FIELDSET',
  'FIGCAPTION',
  'FIGURE',
  'FOOTER',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HR',
  'LI',
  'MAIN',
  'NAV',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'SUMMARY',
  'TABLE',
  'TR',
  'UL',
]);

/** Converts (already extracted) HTML to plain text: block elements on their own lines, no markup. */
export function htmlToText(contentHtml: string): string {
  const document = parseDocument(contentHtml);
  const out: string[] = [];
  const walk = (node: MiniNode, inPre: boolean) => {
    if (node.nodeType === TEXT_NODE) {
      const text = node.textContent ?? '';
      if (inPre) {
        out.push(text);
        return;
      }
      const collapsed = text.replace(/\s+/g, ' ');
      const last = out[out.length - 1];
      // Collapsed whitespace never starts a line (pre text keeps its indentation).
      out.push(last === undefined || /(\n|^- |\t)$/.test(last) ? collapsed.trimStart() : collapsed);
      return;
    }
    if (node.nodeType !== ELEMENT_NODE) return;
    const name = node.nodeName;
    if (name === 'BR') {
      out.push('\n');
      return;
    }
    const block = BLOCKS.has(name);
    if (block) out.push('\n\n');
    if (name === 'LI') out.push('- ');
    if (name === 'TD' || name === 'TH') out.push('\t');
    for (const child of Array.from(node.childNodes)) walk(child, inPre || name === 'PRE');
    if (block) out.push('\n\n');
  };
  if (document.body) walk(document.body, false);
  return out
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \t]+$/, '').replace(/^\t/, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

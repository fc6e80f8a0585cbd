import { Tokenizer, type TokenizerCallbacks } from 'htmlparser2';

/**
 * A hostile page must not make the conversion to markdown slow: linkedom's tree building (like
 * htmlparser2's Parser it rests on) is quadratic in nesting depth (a 5.5 MB page of nested <div>s
 * took 158 s to parse), readability took 13 s on 1 000 nested <div>s and 3 minutes on 5 000, and
 * turndown overflows the stack on deep trees. So before any DOM is built, the page is re-written by
 * one linear pass over htmlparser2's tokenizer (no tree), into a document whose size is bounded:
 *
 * - elements nested deeper than `depth` lose their tags (their text stays);
 * - past `elements` elements, further tags are dropped (their text stays);
 * - an element keeps at most `attributes` attributes, each at most `attributeChars` long;
 * - scripts, styles, iframes, forms controls and the like are dropped with their content;
 * - comments, doctype and processing instructions are dropped; the title and <base> go to <head>.
 *
 * Implied end tags (`<p>` closed by a block, `<li>` by the next `<li>` …) follow htmlparser2's
 * table, and stray end tags are ignored, so ordinary pages come out with the same structure.
 */

export interface HtmlLimits {
  depth: number;
  elements: number;
  attributes: number;
  attributeChars: number;
  titleChars: number;
}

export const HTML_LIMITS: HtmlLimits = {
  depth: 100,
  elements: 30_000,
  attributes: 32,
  attributeChars: 8192,
  titleChars: 300,
};

/** Elements that never carry readable content (and may carry active content), dropped with it. */
export const STRIPPED = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'iframe',
  'object',
  'embed',
  'canvas',
  'svg',
  'math',
  'input',
  'select',
  'textarea',
  'button',
]);

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);

// htmlparser2's openImpliesClose table: opening the key closes an open element of these names.
const formTags = new Set(['input', 'option', 'optgroup', 'select', 'button', 'datalist', 'textarea']);
const pTag = new Set(['p']);
const tableSectionTags = new Set(['thead', 'tbody']);
const ddtTags = new Set(['dd', 'dt']);
const rtpTags = new Set(['rt', 'rp']);
const IMPLIES_CLOSE = new Map<string, Set<string>>([
  ['tr', new Set(['tr', 'th', 'td'])],
  ['th', new Set(['th'])],
  ['td', new Set(['thead', 'th', 'td'])],
  ['li', new Set(['li'])],
  ['option', new Set(['option'])],
  ['optgroup', new Set(['optgroup', 'option'])],
  ['dd', ddtTags],
  ['dt', ddtTags],
  ['rt', rtpTags],
  ['rp', rtpTags],
  ['tbody', tableSectionTags],
  ['tfoot', tableSectionTags],
  ...['select', 'input', 'output', 'button', 'datalist', 'textarea'].map(
    (name) => [name, formTags] as [string, Set<string>],
  ),
  ...[
    'p',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'address',
    'article',
    'aside',
    'blockquote',
    'details',
    'div',
    'dl',
    'fieldset',
    'figcaption',
    'figure',
    'footer',
    'form',
    'header',
    'hr',
    'main',
    'nav',
    'ol',
    'pre',
    'section',
    'table',
    'ul',
  ].map((name) => [name, pTag] as [string, Set<string>]),
]);

/** Tags that only frame the document: the output writes its own. */
const FRAME = new Set(['html', 'head', 'body']);

const TAG_NAME = /^[a-z][a-z0-9-]*$/;
const ATTRIBUTE_NAME = /^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/;

const escapeText = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

/** Re-writes `html` as a bounded, well-formed document (see the module comment). Linear time. */
export function boundHtml(html: string, limits: HtmlLimits = HTML_LIMITS): string {
  const body: string[] = [];
  const head: string[] = [];
  const stack: string[] = [];
  /** Open elements whose tags were dropped (too deep, too many), by name: their end tags are dropped too. */
  const overflow = new Map<string, number>();
  let elements = 0;
  let skipName: string | undefined; // inside a STRIPPED element: everything is dropped
  let skipDepth = 0;
  let title: string | undefined;
  let inTitle = false;
  let baseWritten = false;

  // The open tag being read.
  let tagName = '';
  let attributes: [string, string][] = [];
  let attributeName = '';
  let attributeValue = '';
  let attributeTooLong = false;

  const text = (value: string) => {
    if (skipName !== undefined) return;
    if (inTitle) {
      if (title !== undefined && title.length < limits.titleChars) title += value;
      return;
    }
    body.push(escapeText(value));
  };

  const close = (name: string) => body.push(`</${name}>`);

  const openTag = () => {
    const name = tagName;
    tagName = '';
    const attrs = attributes;
    attributes = [];
    if (!TAG_NAME.test(name)) return;
    if (skipName !== undefined) {
      if (name === skipName && !VOID.has(name)) skipDepth += 1;
      return;
    }
    if (STRIPPED.has(name)) {
      if (!VOID.has(name)) {
        skipName = name;
        skipDepth = 1;
      }
      return;
    }
    if (FRAME.has(name)) return;
    if (name === 'title') {
      inTitle = true;
      if (title === undefined) title = '';
      return;
    }
    if (name === 'base') {
      const href = attrs.find(([attribute]) => attribute === 'href');
      if (!baseWritten && href) head.push(`<base href="${escapeAttribute(href[1])}">`);
      baseWritten = true;
      return;
    }
    if (name === 'meta' || name === 'link') return;
    const closes = IMPLIES_CLOSE.get(name);
    if (closes) {
      while (stack.length > 0 && closes.has(stack[stack.length - 1] as string)) close(stack.pop() as string);
    }
    const isVoid = VOID.has(name);
    if (stack.length >= limits.depth || elements >= limits.elements) {
      if (!isVoid) overflow.set(name, (overflow.get(name) ?? 0) + 1);
      return;
    }
    elements += 1;
    const rendered = attrs.map(([attribute, value]) => ` ${attribute}="${escapeAttribute(value)}"`).join('');
    body.push(`<${name}${rendered}>`);
    if (!isVoid) stack.push(name);
  };

  const closeTag = (name: string) => {
    if (skipName !== undefined) {
      if (name === skipName) {
        skipDepth -= 1;
        if (skipDepth === 0) skipName = undefined;
      }
      return;
    }
    if (name === 'title') {
      inTitle = false;
      return;
    }
    const dropped = overflow.get(name) ?? 0;
    if (dropped > 0) {
      overflow.set(name, dropped - 1);
      return;
    }
    const at = stack.lastIndexOf(name); // the stack is at most `depth` long
    if (at === -1) {
      if (name === 'br') body.push('<br>');
      return;
    }
    while (stack.length > at) close(stack.pop() as string);
  };

  let buffer = html;
  const slice = (start: number, end: number) => buffer.slice(start, end);
  const callbacks: TokenizerCallbacks = {
    onattribdata(start, end) {
      if (attributeTooLong) return;
      attributeValue += slice(start, end);
      if (attributeValue.length > limits.attributeChars) attributeTooLong = true;
    },
    onattribentity(codepoint) {
      if (!attributeTooLong) attributeValue += String.fromCodePoint(codepoint);
    },
    onattribend() {
      const name = attributeName.toLowerCase();
      if (
        !attributeTooLong &&
        attributes.length < limits.attributes &&
        ATTRIBUTE_NAME.test(name) &&
        !attributes.some(([existing]) => existing === name)
      ) {
        attributes.push([name, attributeValue]);
      }
      attributeName = '';
      attributeValue = '';
      attributeTooLong = false;
    },
    onattribname(start, end) {
      attributeName = slice(start, end);
    },
    oncdata() {},
    onclosetag(start, end) {
      closeTag(slice(start, end).toLowerCase());
    },
    oncomment() {},
    ondeclaration() {},
    onend() {},
    onopentagend() {
      openTag();
    },
    onopentagname(start, end) {
      tagName = slice(start, end).toLowerCase();
      attributes = [];
    },
    onprocessinginstruction() {},
    onselfclosingtag() {
      // HTML ignores the slash (except on foreign elements, which are dropped here).
      openTag();
    },
    ontext(start, end) {
      text(slice(start, end));
    },
    ontextentity(codepoint) {
      text(String.fromCodePoint(codepoint));
    },
  };
  const tokenizer = new Tokenizer({ decodeEntities: true }, callbacks);
  tokenizer.write(buffer);
  tokenizer.end();
  buffer = '';
  while (stack.length > 0) close(stack.pop() as string);
  const titleTag = title === undefined ? '' : `<title>${escapeText(title.trim())}</title>`;
  return `<!DOCTYPE html><html><head>${titleTag}${head.join('')}</head><body>${body.join('')}</body></html>`;
}

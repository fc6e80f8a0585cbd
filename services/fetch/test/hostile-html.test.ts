/**
 * Hostile pages, class by class (deep nesting, unclosed and mismatched tags, huge attribute counts
 * and values, giant tables, hundreds of thousands of elements, deep or dense JSON): the bounded
 * re-write keeps every output within its limits, keeps ordinary structure intact, and the whole
 * conversion of each hostile page finishes (the worker's time budget is the last resort, not the
 * plan). The answer's byte room is honoured whatever the characters.
 */
import { Tokenizer } from 'htmlparser2';
import { describe, expect, it } from 'vitest';

import { boundHtml, HTML_LIMITS } from '../src/bound-html.js';
import { convertPage, type ConvertRequest, jsonFitLength } from '../src/convert.js';

/** Depth, element count and most attributes on one element of (bounded) HTML, by the tokenizer alone. */
function measure(html: string): { depth: number; elements: number; attributes: number } {
  let depth = 0;
  let maxDepth = 0;
  let elements = 0;
  let attributes = 0;
  let maxAttributes = 0;
  let name = '';
  const VOID = new Set(['br', 'img', 'hr', 'base', 'meta', 'link', 'input', 'source', 'wbr', 'area', 'col', 'track']);
  const tokenizer = new Tokenizer(
    { decodeEntities: true },
    {
      onopentagname: (start, end) => {
        name = html.slice(start, end);
        attributes = 0;
      },
      onattribend: () => (attributes += 1),
      onopentagend: () => {
        elements += 1;
        maxAttributes = Math.max(maxAttributes, attributes);
        if (!VOID.has(name)) maxDepth = Math.max(maxDepth, (depth += 1));
      },
      onclosetag: () => (depth -= 1),
      onselfclosingtag: () => undefined,
      onattribdata: () => undefined,
      onattribentity: () => undefined,
      onattribname: () => undefined,
      oncdata: () => undefined,
      oncomment: () => undefined,
      ondeclaration: () => undefined,
      onend: () => undefined,
      onprocessinginstruction: () => undefined,
      ontext: () => undefined,
      ontextentity: () => undefined,
    },
  );
  tokenizer.write(html);
  tokenizer.end();
  return { depth: maxDepth, elements, attributes: maxAttributes };
}

const HOSTILE: [string, string][] = [
  ['500 000 nested divs', `${'<div>'.repeat(500_000)}deep text${'</div>'.repeat(500_000)}`],
  ['100 000 unclosed <b>', `${'<b>'.repeat(100_000)}bold text`],
  ['200 000 mismatched end tags', `${'<div>'.repeat(200_000)}text${'</span>'.repeat(200_000)}`],
  ['nested tables', `${'<table><tr><td>'.repeat(20_000)}cell${'</td></tr></table>'.repeat(20_000)}`],
  ['100 000 attributes', `<p ${Array.from({ length: 100_000 }, (_, i) => `a${i}="v"`).join(' ')}>attributes</p>`],
  ['a 4 MB attribute', `<a href="https://x.test/${'x'.repeat(4_000_000)}">long link</a><p>after</p>`],
  // Under the 5 MiB body cap (FETCH_MAX_BODY_BYTES), as every body is.
  ['a 400 × 1000 table', `<table>${`<tr>${'<td>c</td>'.repeat(1000)}</tr>`.repeat(400)}</table>`],
  ['300 000 paragraphs', '<p>word</p>'.repeat(300_000)],
  // Ordinary markup, at a scale where readability alone took 17 s (it is skipped past 10 000 elements).
  [
    '44 000 elements of article markup',
    '<div class="c"><p>Some <a href="/w/x">link</a> and <b>bold</b>.</p><ul><li>item</li><li><i>two</i></li></ul></div>'.repeat(
      4000,
    ),
  ],
  ['unclosed comment and script', `<p>visible</p><script>${'x<'.repeat(500_000)}`],
  ['deep inline nesting', `${'<span><a href="/x"><em>'.repeat(50_000)}text`],
];

describe('boundHtml', () => {
  it.each(HOSTILE)('%s: bounded depth, elements and attributes', (_name, html) => {
    const bounded = boundHtml(html);
    const shape = measure(bounded);
    // html, head and body frame the document: three levels above the limit at most.
    expect(shape.depth).toBeLessThanOrEqual(HTML_LIMITS.depth + 3);
    expect(shape.elements).toBeLessThanOrEqual(HTML_LIMITS.elements + 4);
    expect(shape.attributes).toBeLessThanOrEqual(HTML_LIMITS.attributes);
    expect(bounded.length).toBeLessThan(html.length * 5 + 200);
  });

  it('keeps ordinary structure: implied ends, stray ends, text, entities, title and base', () => {
    const out = boundHtml(
      '<!doctype html><html><head><title>A &amp; B</title><base href="/docs/"><meta charset="utf-8">' +
        '<script>alert("x")</script><style>p{}</style></head><body><!-- note --><p>one<p>two</span>' +
        '<ul><li>a<li>b</ul><table><tr><td>1<td>2<tr><td>3</table><div>x &lt; y &#x1F600;</div>' +
        '<svg><svg><text>drawn</text></svg></svg><img src="a.png" alt=\'say "hi"\'><br/>tail</body></html>',
    );
    expect(out).toBe(
      '<!DOCTYPE html><html><head><title>A &amp; B</title><base href="/docs/"></head><body>' +
        '<p>one</p><p>two</p><ul><li>a</li><li>b</li></ul><table><tr><td>1</td><td>2</td></tr><tr><td>3</td></tr>' +
        '</table><div>x &lt; y 😀</div><img src="a.png" alt="say &quot;hi&quot;"><br>tail</body></html>',
    );
  });

  it('drops elements past the depth but keeps their text', () => {
    const out = boundHtml(`${'<div>'.repeat(150)}<a href="/deep">deep link</a>${'</div>'.repeat(150)}<p>after</p>`);
    expect(out).toContain('deep link');
    expect(out).toContain('<p>after</p>');
    expect(measure(out).depth).toBeLessThanOrEqual(HTML_LIMITS.depth + 2);
  });
});

const request = (body: string, overrides: Partial<ConvertRequest> = {}): ConvertRequest => ({
  body: Buffer.from(body),
  contentType: 'text/html; charset=utf-8',
  truncated: false,
  finalUrl: 'https://site.test/page',
  format: 'markdown',
  startIndex: 0,
  maxLength: 1_000_000,
  maxContentBytes: 4 * 1024 * 1024,
  ...overrides,
});

describe('convertPage on hostile input', () => {
  it.each(HOSTILE)('%s converts to markdown', (_name, html) => {
    expect(convertPage(request(html)).total_length).toBeGreaterThan(0);
  });

  it('deep nesting converts to text and html too', () => {
    const html = HOSTILE[0]?.[1] ?? '';
    for (const format of ['text', 'html'] as const) {
      expect(convertPage(request(html, { format })).content).toContain('deep text');
    }
  });

  it('JSON too deep or too dense to re-indent cheaply comes back as served', () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    expect(convertPage(request(deep, { format: 'json', contentType: 'application/json' })).content).toBe(deep);
    const dense = `[${Array.from({ length: 1000 }, () => `${'['.repeat(30)}0${']'.repeat(30)}`).join(',')}]`;
    const page = convertPage(request(dense, { format: 'json', contentType: 'application/json' }));
    expect(page.content).toBe(dense);
    expect(convertPage(request('{"a":[1,2]}', { format: 'json' })).content).toBe('{\n  "a": [\n    1,\n    2\n  ]\n}');
  });

  it('cuts the page to the answer room, counting JSON escapes, and says where to continue', () => {
    const text = '\u0001"\\é😀'.repeat(10_000);
    const page = convertPage(request(text, { format: 'raw', contentType: 'text/plain', maxContentBytes: 1000 }));
    expect(page.cutToBudget).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(page.content))).toBeLessThanOrEqual(1002);
    expect(page.next_start_index).toBe(page.content.length);
    // Never between the halves of a surrogate pair.
    expect(page.content.charCodeAt(page.content.length - 1) & 0xfc00).not.toBe(0xd800);
  });

  it('jsonFitLength is exact for every kind of character', () => {
    for (const text of ['plain ascii', '"quoted"\\', '\u0000\u001f\n\t', 'é€', '😀😀', '\ud800lone', 'x\udc00y']) {
      const bytes = Buffer.byteLength(JSON.stringify(text)) - 2;
      expect(jsonFitLength(text, bytes + 6), text).toBe(text.length);
      const fit = jsonFitLength(text, bytes - 1);
      expect(fit).toBeLessThan(text.length);
      expect(Buffer.byteLength(JSON.stringify(text.slice(0, fit))) - 2).toBeLessThanOrEqual(bytes - 1);
    }
  });
});

import { describe, expect, it } from 'vitest';

import { extractMainContent, htmlToMarkdown, htmlToText } from '../src/html-to-markdown.js';
import { fixture } from './helpers/servers.js';

const convert = (html: string, url = 'https://docs.example.org/guide/page.html') => {
  const extracted = extractMainContent(html, url);
  return { ...extracted, markdown: htmlToMarkdown(extracted.html, extracted.title), text: htmlToText(extracted.html) };
};

describe('real documents', () => {
  it('socat: headings, a data table as GFM, a layout table as text, absolute links', () => {
    const page = convert(fixture('socat-genericsocket.html'), 'https://docs.example.org/socat/generic.html');
    expect(page.title).toBe('Generic sockets with Socat');
    expect(page.usedReadability).toBe(true);
    expect(page.markdown.startsWith('# Generic sockets with Socat\n\n## Introduction')).toBe(true);
    expect(page.markdown).toContain(
      [
        '| component | offset | length | value | meaning |',
        '| --- | --- | --- | --- | --- |',
        '| sat\\_family | 0 | 2 | x0005 | address family |',
      ].join('\n'),
    );
    expect(page.markdown).toContain('[address options](https://docs.example.org/socat/generic.html#GENERIC_OPTIONS)');
    expect(page.markdown).toContain(
      "[IETF's Datagram Congestion Control Protocol](http://www.ietf.org/html.charters/dccp-charter.html)",
    );
    expect(page.markdown).toMatch(/\n\.\.\. E connect\(3, AF=2 127\.0\.0\.1:4096, 16\): Invalid request code\n/);
    expect(page.markdown).not.toMatch(/<\/?(table|td|div|p)\b/i);
  });

  it('zlib: code blocks fenced, relative links absolute, no markup left', () => {
    const page = convert(fixture('zlib-how.html'), 'https://zlib.example/zlib_how.html');
    expect(page.title).toBe('zlib Usage Example');
    expect(page.markdown).toContain('[zpipe.c](https://zlib.example/zpipe.c)');
    expect(page.markdown).toMatch(
      /```\n#include <stdio\.h>\n#include <string\.h>\n#include <assert\.h>\n#include "zlib\.h"\n```/,
    );
    expect(page.markdown.match(/^```$/gm)?.length ?? 0).toBeGreaterThan(20);
    expect(page.text).toContain('#include <stdio.h>\n#include <string.h>');
    expect(page.text).not.toMatch(/<\/?(pre|b|p|a|h2)\b/);
  });

  it('libffi (texinfo): navigation links resolved against the page URL', () => {
    const page = convert(fixture('libffi-the-basics.html'), 'https://gcc.example/libffi/The-Basics.html');
    expect(page.title).toBe('The Basics (libffi: the portable foreign function interface library)');
    expect(page.markdown).toContain('ffi_prep_cif');
    expect(page.markdown).toMatch(/\]\(https:\/\/gcc\.example\/libffi\/[A-Za-z-]+\.html(#[^)]*)?\)/);
    expect(page.markdown).not.toMatch(/\]\((?!https?:|mailto:)[^)]*\)/); // every link absolute
  });
});

describe('links, images and active content', () => {
  const page = `<!DOCTYPE html><html><head><title>Links</title><base href="/root/"></head><body>
    <article><h1>Links</h1>
      <p>See <a href="other.html">the other page</a>, <a href="//cdn.example/x">a CDN</a>,
      <a href="mailto:me@example.com">mail</a>, <a href="javascript:alert(1)">a trap</a>
      and <a href="data:text/html,hi">data</a>.</p>
      <p><img src="img/a.png" alt="A"> <img src="data:image/png;base64,AAAA" alt="inline">
      <img src="b.png" srcset="b-1x.png 1x, /abs/b-2x.png 2x" alt="B"></p>
      <p>Enough words here to make this the main content of the page for readability to pick it up,
      with a second sentence for good measure and a third one to be sure.</p>
      <script>document.write('injected')</script><style>p{}</style>
    </article></body></html>`;

  it('resolves against <base>, keeps only web and mail links, drops inline data and scripts', () => {
    const extracted = extractMainContent(page, 'https://site.example/dir/page.html');
    const markdown = htmlToMarkdown(extracted.html, extracted.title);
    expect(markdown).toContain('[the other page](https://site.example/root/other.html)');
    expect(markdown).toContain('[a CDN](https://cdn.example/x)');
    expect(markdown).toContain('[mail](mailto:me@example.com)');
    expect(markdown).toContain('a trap');
    expect(markdown).not.toContain('javascript:');
    expect(markdown).not.toContain('data:');
    expect(markdown).toContain('![A](https://site.example/root/img/a.png)');
    expect(markdown).not.toContain('inline');
    expect(extracted.html).toContain(
      'srcset="https://site.example/root/b-1x.png 1x, https://site.example/abs/b-2x.png 2x"',
    );
    expect(markdown).not.toContain('injected');
    expect(markdown.match(/^# Links$/gm)).toHaveLength(1);
  });

  it('keeps a page wrapped in one <form> and drops its controls', () => {
    const extracted = extractMainContent(
      '<html><head><title>Web form page</title></head><body><form action="/post"><h1>Report</h1>' +
        '<p>The quarterly figures are in and they look good for every region we cover this year.</p>' +
        '<input name="q" value="hidden value"><button>Send it</button><select><option>Choice</option></select>' +
        '</form></body></html>',
      'https://site.example/',
    );
    const markdown = htmlToMarkdown(extracted.html, extracted.title);
    expect(markdown).toContain('The quarterly figures are in');
    expect(markdown).not.toMatch(/hidden value|Send it|Choice/);
  });

  it('falls back to the body when readability finds no article', () => {
    const extracted = extractMainContent(
      '<html><head><title>Gallery</title></head><body><img src="pic.jpg" alt="a picture"></body></html>',
      'https://site.example/g/',
    );
    expect(extracted.usedReadability).toBe(false);
    expect(htmlToMarkdown(extracted.html, extracted.title)).toBe(
      '# Gallery\n\n![a picture](https://site.example/g/pic.jpg)',
    );
  });

  it('copes with documents that omit <html>, <head> or <body>', () => {
    const extracted = extractMainContent(
      '<title>Bare</title><p>Just a paragraph with <a href="x">a link</a>.</p>',
      'https://site.example/a/b',
    );
    expect(extracted.title).toBe('Bare');
    expect(htmlToMarkdown(extracted.html, extracted.title)).toContain('[a link](https://site.example/a/x)');
  });
});

describe('htmlToText', () => {
  it('puts blocks on their own lines and keeps preformatted text', () => {
    const text = htmlToText(
      '<h2>Title</h2><p>First   paragraph\nwrapped.</p><ul><li>one</li><li>two</li></ul><pre>a  b\n  c</pre><p>x<br>y</p>',
    );
    expect(text).toBe('Title\n\nFirst paragraph wrapped.\n\n- one\n\n- two\n\na  b\n  c\n\nx\ny');
  });
});

import { describe, expect, it } from 'vitest';

import { decodeText, isTextual, looksLikeHtml, parseContentType } from '../src/decode-body.js';

describe('parseContentType', () => {
  it('splits type and charset', () => {
    expect(parseContentType('Text/HTML; Charset="ISO-8859-1"')).toEqual({
      mimeType: 'text/html',
      charset: 'iso-8859-1',
    });
    expect(parseContentType('application/json')).toEqual({ mimeType: 'application/json', charset: undefined });
    expect(parseContentType(undefined)).toEqual({ mimeType: '', charset: undefined });
  });
});

describe('isTextual', () => {
  const text = Buffer.from('plain words');
  const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]);

  it.each([
    'text/plain',
    'text/csv',
    'application/json',
    'application/ld+json',
    'application/rss+xml',
    'image/svg+xml',
  ])('%s is text', (type) => expect(isTextual(type, binary)).toBe(true));

  it.each(['image/png', 'application/pdf', 'application/zip', 'video/mp4'])('%s is binary', (type) => {
    expect(isTextual(type, text)).toBe(false);
  });

  it('sniffs bodies without a usable type', () => {
    expect(isTextual('', text)).toBe(true);
    expect(isTextual('application/octet-stream', text)).toBe(true);
    expect(isTextual('', binary)).toBe(false);
    expect(isTextual('', Buffer.from([0xff, 0xfe, 0xfd, 0x41]))).toBe(false);
  });

  it('recognises untyped HTML', () => {
    expect(looksLikeHtml(Buffer.from('\n  <!DOCTYPE html><html>'))).toBe(true);
    expect(looksLikeHtml(Buffer.from('<HTML><body>'))).toBe(true);
    expect(looksLikeHtml(Buffer.from('{"a":1}'))).toBe(false);
  });
});

describe('decodeText', () => {
  const latin1 = Buffer.from('caf\xe9', 'latin1');

  it('uses the header charset', () => {
    expect(decodeText(latin1, { mimeType: 'text/plain', charset: 'iso-8859-1' }, false, false)).toBe('café');
  });

  it('uses a <meta charset> for HTML when the header has none', () => {
    const page = Buffer.concat([Buffer.from('<html><head><meta charset="windows-1252"></head><body>'), latin1]);
    expect(decodeText(page, { mimeType: 'text/html', charset: undefined }, false, true)).toContain('café');
    const httpEquiv = Buffer.concat([
      Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'),
      latin1,
    ]);
    expect(decodeText(httpEquiv, { mimeType: 'text/html', charset: undefined }, false, true)).toContain('café');
  });

  it('lets a BOM win and strips it', () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('café')]);
    expect(decodeText(bom, { mimeType: 'text/plain', charset: 'iso-8859-1' }, false, false)).toBe('café');
  });

  it('falls back to UTF-8 for unknown charsets', () => {
    expect(decodeText(Buffer.from('café'), { mimeType: 'text/plain', charset: 'x-klingon' }, false, false)).toBe(
      'café',
    );
  });

  it('drops a character cut in half by the body cap', () => {
    const cut = Buffer.from('naïve').subarray(0, 3); // "na" + the first byte of "ï"
    expect(decodeText(cut, { mimeType: 'text/plain', charset: 'utf-8' }, true, false)).toBe('na');
    expect(decodeText(cut, { mimeType: 'text/plain', charset: 'utf-8' }, false, false)).toBe('na\uFFFD');
  });
});

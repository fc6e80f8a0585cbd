import { describe, expect, it } from 'vitest';

import { linkPages, pageInfo } from '../src/paging.js';

describe('linkPages', () => {
  it("reads GitHub's Link header", () => {
    const header =
      '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", ' +
      '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next", ' +
      '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last", ' +
      '<https://api.github.com/repositories/1300192/issues?page=1>; rel="first"';
    expect(linkPages(header)).toEqual({ prev: 2, next: 4, last: 515, first: 1 });
  });

  it('reads pages among other query parameters, and in any order', () => {
    expect(
      linkPages(
        '<https://ghe.example/api/v3/search/issues?q=a%2Cb&per_page=5&page=3>; rel="next", <x?page=9>; rel=last',
      ),
    ).toEqual({ next: 3, last: 9 });
  });

  it('skips what it cannot read', () => {
    expect(linkPages(undefined)).toEqual({});
    expect(linkPages('')).toEqual({});
    expect(linkPages('garbage')).toEqual({});
    expect(linkPages('<https://x/?page=abc>; rel="next"')).toEqual({});
    expect(linkPages('<https://x/?nopage=1>; rel="next"')).toEqual({});
    expect(linkPages('<https://x/?page=2>; rel="other"')).toEqual({});
    expect(linkPages(`<https://x/?page=2>; rel="next"${', <y>; rel="z"'.repeat(5000)}`)).toEqual({});
  });
});

describe('pageInfo', () => {
  it('says whether more remain and where', () => {
    expect(pageInfo('<https://x/?page=3>; rel="next", <https://x/?page=7>; rel="last"', 2, 10)).toEqual({
      page: 2,
      per_page: 10,
      has_more: true,
      next_page: 3,
      last_page: 7,
    });
    expect(pageInfo('<https://x/?page=1>; rel="prev"', 2, 10)).toEqual({ page: 2, per_page: 10, has_more: false });
    expect(pageInfo(undefined, 1, 30)).toEqual({ page: 1, per_page: 30, has_more: false });
  });
});

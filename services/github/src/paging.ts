/** One page of a list: where it is, and whether GitHub has more (from its `Link` header). */
export interface PageInfo {
  page: number;
  per_page: number;
  has_more: boolean;
  /** The page to ask for next, when has_more. */
  next_page?: number;
  /** The last page, when GitHub says (search and most lists do). */
  last_page?: number;
}

/**
 * The relations of a `Link` header (RFC 8288) that carry a `page` number:
 * `<https://api.github.com/repositories/1/issues?page=2>; rel="next", <…?page=5>; rel="last"`.
 * Anything malformed is skipped: a link that cannot be read is a link that is not there.
 */
export function linkPages(header: string | undefined): Partial<Record<'next' | 'prev' | 'first' | 'last', number>> {
  const pages: Partial<Record<'next' | 'prev' | 'first' | 'last', number>> = {};
  if (header === undefined || header.length > 16_384) return pages;
  for (const part of header.split(',')) {
    const match = /^\s*<([^>]*)>\s*((?:;\s*[^;]*)*)$/.exec(part);
    if (!match) continue;
    const rels = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2] ?? '')?.[1]?.split(/\s+/) ?? [];
    let page: number | undefined;
    try {
      const value = new URL(match[1] ?? '', 'http://link.invalid').searchParams.get('page');
      page = value !== null && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
    } catch {
      continue;
    }
    if (page === undefined) continue;
    for (const rel of rels) {
      if (rel === 'next' || rel === 'prev' || rel === 'first' || rel === 'last') pages[rel] = page;
    }
  }
  return pages;
}

/** The page info of an answer to `?page=&per_page=`. */
export function pageInfo(linkHeader: string | undefined, page: number, perPage: number): PageInfo {
  const links = linkPages(linkHeader);
  const info: PageInfo = { page, per_page: perPage, has_more: links.next !== undefined };
  if (links.next !== undefined) info.next_page = links.next;
  if (links.last !== undefined) info.last_page = links.last;
  return info;
}

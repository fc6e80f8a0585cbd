import { z } from 'zod';

import type { Call, GitHub, Paging, RepoRef } from './context.js';
import { type Authored, withholdUntrusted } from './lockdown.js';
import { pageInfo } from './paging.js';
import { pageFields, untrustedFields } from './shapes.js';
import { fitList, UNTRUSTED } from './text.js';

/** The fields every list answer has besides its items. */
export const listFields = {
  ...pageFields,
  truncated: z.boolean().describe('Text was cut, or items were left out to fit the answer size limit'),
  omitted: z
    .number()
    .int()
    .optional()
    .describe('Items of this page left out to fit MCP_MAX_RESULT_BYTES; ask for a smaller per_page'),
  ...untrustedFields,
};

/** A list answer schema: `{<key>: [item], page, per_page, has_more, …, untrusted, notice}`. */
export function listSchema<K extends string, S extends z.ZodType>(key: K, item: S, extra: z.ZodRawShape = {}) {
  return z.object({ [key]: z.array(item), ...extra, ...listFields } as { [P in K]: z.ZodArray<S> } & typeof listFields);
}

/** A search answer schema: the list, and GitHub's `total_count` and `incomplete_results`. */
export function searchSchema<K extends string, S extends z.ZodType>(key: K, item: S) {
  return listSchema(key, item, { total_count: z.number().int(), incomplete_results: z.boolean() });
}

/** What a search tool takes. */
export interface SearchArgs<Sort extends string = never> extends Paging {
  query: string;
  sort?: Sort | undefined;
  order?: 'asc' | 'desc' | undefined;
}

/** The parameters of a search request (Octokit leaves out those that are undefined). */
export function searchParams<Sort extends string>(args: SearchArgs<Sort>) {
  return { q: args.query, sort: args.sort, order: args.order, page: args.page, per_page: args.per_page };
}

/**
 * One page of a list as an answer: the items, where the page is (from GitHub's `Link` header),
 * whether any text was cut, and the items cut to the byte budget.
 */
export function listAnswer<K extends string, T extends object, E extends Record<string, unknown>>(
  key: K,
  items: T[],
  link: string | undefined,
  paging: Paging,
  budget: number,
  extra: E = {} as E,
) {
  const answer = {
    [key]: items,
    ...extra,
    ...pageInfo(link, paging.page, paging.per_page),
    truncated: items.some((item) => (item as { truncated?: unknown }).truncated === true),
    ...UNTRUSTED,
  } as { [P in K]: T[] } & E & ReturnType<typeof pageInfo> & { truncated: boolean } & typeof UNTRUSTED;
  return fitList(answer, key, budget);
}

/** A page of items written by people in one repository, withheld as lockdown requires, as an answer. */
export async function authoredListAnswer<K extends string, T extends Authored & { title?: string | null }>(
  gh: GitHub,
  call: Call,
  ref: RepoRef & Paging,
  key: K,
  items: T[],
  link: string | undefined,
) {
  const filter = await gh.lockdown.forRepo(call, ref.owner, ref.repo);
  return listAnswer(key, await withholdUntrusted(filter, items), link, ref, call.budget);
}

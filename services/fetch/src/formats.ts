/**
 * The output formats of fetch, apart from convert.ts so that the main thread can name them without
 * loading the converters (linkedom, Readability, Turndown), which run in the convert worker only.
 */
export const FORMATS = ['markdown', 'text', 'html', 'json', 'raw'] as const;
export type FetchFormat = (typeof FORMATS)[number];

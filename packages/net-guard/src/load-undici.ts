import type * as UndiciModule from 'undici';

import { FetchError } from './fetch-error.js';

export type Undici = typeof UndiciModule;
let undici: Promise<Undici> | undefined;

/**
 * undici is CommonJS: Node's import() gives its exports by name and as `default`, a service bundle
 * (esbuild) only as `default`. Take the whole module either way.
 */
function wholeModule(module: Undici): Undici {
  const whole: unknown = (module as { default?: unknown }).default;
  return isUndici(whole) ? whole : module;
}

function isUndici(value: unknown): value is Undici {
  return typeof value === 'object' && value !== null && typeof (value as Partial<Undici>).Agent === 'function';
}

/**
 * undici, loaded on the first request rather than at start-up (about 20 MB resident and a tenth of
 * a service's modules). A failure to load it fails that call with a clear message, and the next call
 * tries again. Its own subpath (`@mcp-sse/net-guard/undici`), so that a service that only needs the
 * client (monitoring's Loki reads) does not load the SSRF guard.
 */
export function loadUndici(): Promise<Undici> {
  undici ??= import('undici').then(wholeModule, (error: unknown) => {
    undici = undefined;
    throw new FetchError('CONNECT', `The HTTP client (undici) could not be loaded: ${(error as Error).message}`, {
      cause: error,
    });
  });
  return undici;
}

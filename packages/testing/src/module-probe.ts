import { readFileSync } from 'node:fs';

/**
 * A `--import` for a service process that records every module it loads (ESM resolutions and
 * CommonJS requests) to the file named by MODULE_PROBE_FILE: `nodeArgs: ['--import', MODULE_PROBE]`.
 */
export const MODULE_PROBE = new URL('../probe/module-probe.mjs', import.meta.url).pathname;

/** The modules a probed process loaded so far: `import <url>` and `require <request> from <parent file>` lines. */
export function modulesLoaded(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A `--import` for a service process that records every module it loads (ESM resolutions and
 * CommonJS requests) to the file named by MODULE_PROBE_FILE: `nodeArgs: ['--import', MODULE_PROBE]`.
 */
export const MODULE_PROBE = new URL('../probe/module-probe.mjs', import.meta.url).pathname;

/** The modules a probed process loaded so far: `import <url>` and `require <request> from <parent file>` lines. */
export function modulesLoaded(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

export interface ModuleProbe {
  /** The variable the probe writes to: merge into the process's `env`. */
  readonly env: { MODULE_PROBE_FILE: string };
  /** The flags that load the probe: the process's `nodeArgs`. */
  readonly nodeArgs: string[];
  /** What the process loaded so far (modulesLoaded of the probe's file). */
  loaded(): string[];
  /** Removes the probe's file and folder. */
  remove(): void;
}

/**
 * A module probe for one service process, in a folder of its own: what a test needs to show that a
 * module loads when first needed and not before (the bundle tests).
 */
export function moduleProbe(): ModuleProbe {
  const dir = mkdtempSync(join(tmpdir(), 'module-probe-'));
  const file = join(dir, 'modules.log');
  return {
    env: { MODULE_PROBE_FILE: file },
    nodeArgs: ['--import', MODULE_PROBE],
    loaded: () => modulesLoaded(file),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

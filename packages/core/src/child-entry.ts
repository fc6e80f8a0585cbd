/**
 * Which file a module starts a child process from. Both forms of a service run the same code: the
 * image runs a bundle (scripts/bundle-service.mjs), where each child entry is its own
 * `<name>.bundle.js`; tsc's output has `<name>.js`; vitest and tsx run the `.ts` sources, where the
 * child needs tsx's hooks to load its entry.
 *
 * No MCP or server imports: plain domain code (sqlite's worker pool) uses it through the
 * `@mcp-sse/core/child-entry` subpath, without loading the core.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { bundled } from './bundled.js';

export interface ChildEntry {
  /** The entry file's absolute path. */
  readonly path: string;
  /** Node flags the child needs to load it: tsx's hooks for a `.ts` entry, none otherwise. */
  readonly execArgv: readonly string[];
}

/**
 * The entry named `name` beside the module at `moduleUrl` (its `import.meta.url`), in that
 * module's form. The child gets only these flags, never the parent's (--cpu-prof, --import, …).
 */
export function childEntry(moduleUrl: string, name: string): ChildEntry {
  const beside = (file: string): string => fileURLToPath(new URL(`./${file}`, moduleUrl));
  // In a bundle the calling module may sit in a chunk, but chunks and entries share one folder.
  if (bundled) return { path: beside(`${name}.bundle.js`), execArgv: [] };
  if (moduleUrl.endsWith('.ts')) {
    // tsx is a root devDependency: present wherever the sources run, and found from here. An
    // absolute URL, so the child does not depend on its working directory to find it.
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { path: beside(`${name}.ts`), execArgv: ['--import', tsx] };
  }
  return { path: beside(`${name}.js`), execArgv: [] };
}

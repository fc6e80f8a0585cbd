import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A directory tree as one comparable value: every entry's relative path, kind, mode and size, a
 * file's SHA-256 and a link's target. Before and after a fuzz run it must be equal to the byte.
 */
export function treeDigest(root: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      const stat = lstatSync(path);
      const mode = (stat.mode & 0o7777).toString(8);
      if (stat.isSymbolicLink()) entries[relative] = `link ${readlinkSync(path)}`;
      else if (stat.isDirectory()) {
        entries[relative] = `dir ${mode}`;
        walk(path, relative);
      } else if (stat.isFile()) {
        const hash = createHash('sha256').update(readFileSync(path)).digest('hex');
        entries[relative] = `file ${mode} ${stat.size} ${hash}`;
      } else entries[relative] = `other ${mode}`;
    }
  };
  walk(root, '');
  return entries;
}

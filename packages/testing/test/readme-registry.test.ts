import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('config/services.yaml is the single source of the README service table', () => {
  it('the table between the README markers is what the registry generates', () => {
    const generated = execFileSync('bash', ['-c', '. scripts/lib/registry.sh; registry_markdown'], {
      cwd: root,
      encoding: 'utf8',
    });
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const match = /<!-- services:begin[^>]*-->\n([\s\S]*?)<!-- services:end -->/.exec(readme);
    expect(match, 'README.md has no services:begin/end markers').not.toBeNull();
    expect(match?.[1]).toBe(generated);
    expect(generated).toContain('| sqlite | `mcp-sqlite` | 8006 |');
  });
});

/**
 * Parses a `KEY=value` env file (comments and blank lines skipped), as Docker's env_file reads it.
 * Used by each service's test that keeps config/<service>.env.example honest.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [index, line] of text.split('\n').entries()) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`line ${index + 1} has no "=": ${line}`);
    env[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
  }
  return env;
}

/**
 * The `KEY=value` lines of an env file that have no comment above them (a run of variables may share
 * one comment). An honest example file documents every variable: each service's test expects [].
 */
export function variablesWithoutComment(text: string): string[] {
  const isVariable = (line: string) => /^[A-Z_]+=/.test(line);
  const lines = text.split('\n');
  return lines.filter((line, index) => {
    if (!isVariable(line)) return false;
    const previous = lines
      .slice(0, index)
      .reverse()
      .find((l) => !isVariable(l));
    return !previous?.startsWith('#');
  });
}

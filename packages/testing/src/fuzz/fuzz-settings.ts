/**
 * How many runs and which seed the fuzz suites use. CI runs a fixed seed and few runs (the suites
 * are part of `vitest run`); FUZZ_RUNS and FUZZ_SEED run longer or replay a failure.
 */
export const DEFAULT_FUZZ_SEED = 16;

export interface FuzzSettings {
  /** The base seed; each property derives its own from it and its name (see seedFor). */
  seed: number;
  /** Runs per property: FUZZ_RUNS, else the suite's own default. */
  runs: number;
  /** FUZZ_SHRINK=1 shrinks a failure to a smaller counter-example (slow against a live service). */
  shrink: boolean;
}

function integerFrom(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function fuzzSettings(defaultRuns: number, env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const runs = integerFrom('FUZZ_RUNS', env['FUZZ_RUNS']) ?? defaultRuns;
  if (runs < 1) throw new Error('FUZZ_RUNS must be at least 1');
  return {
    seed: integerFrom('FUZZ_SEED', env['FUZZ_SEED']) ?? DEFAULT_FUZZ_SEED,
    runs,
    shrink: env['FUZZ_SHRINK'] === '1',
  };
}

/** A property's own seed: the base seed mixed with its name (FNV-1a), so properties differ yet replay. */
export function seedFor(base: number, name: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash ^ base) | 0;
}

/** The line printed with every failure: how to run exactly this again. */
export function replayHint(settings: FuzzSettings, file: string): string {
  return `replay: FUZZ_SEED=${settings.seed} FUZZ_RUNS=${settings.runs} pnpm exec vitest run ${file} (add FUZZ_SHRINK=1 for a smaller counter-example)`;
}

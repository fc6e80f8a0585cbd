import { baseConfigSchema } from '@mcp-sse/core';
import type { z } from 'zod';

/** The fixture has no settings of its own; it listens where PORT says (the runner picks a free one). */
export const fixtureConfigSchema = baseConfigSchema;

export type FixtureConfig = z.infer<typeof fixtureConfigSchema>;

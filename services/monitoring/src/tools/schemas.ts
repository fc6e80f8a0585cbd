import { READ_ONLY_ANNOTATIONS } from '@mcp-sse/core';
import { z } from 'zod';

import { CONTAINER_REF_HELP, CONTAINER_REF_MAX, CONTAINER_REF_PATTERN } from '../container-ref.js';
import { TIME_HELP } from '../time-window.js';

/** A container reference: refused at the schema already (the domain checks it again before use). */
export const containerRefSchema = z
  .string()
  .max(CONTAINER_REF_MAX, `at most ${CONTAINER_REF_MAX} characters`)
  .regex(CONTAINER_REF_PATTERN, `must be ${CONTAINER_REF_HELP}`)
  .describe('Container name or id (full or a unique prefix)');

export const timeSchema = z.string().min(1).max(64);
export const sinceSchema = timeSchema.describe(`Start of the window: ${TIME_HELP}`);
export const untilSchema = timeSchema.describe(`End of the window (default now): ${TIME_HELP}`);

export const windowSchema = z
  .object({
    since: z.string().nullable().describe('RFC 3339 UTC; null: from the beginning'),
    until: z.string().describe('RFC 3339 UTC'),
  })
  .describe('The time window the result covers');

/** Reads the engine or the host: nothing is changed, but what it reads changes between calls. */
export const readAnnotations = { ...READ_ONLY_ANNOTATIONS, idempotentHint: false };

/** Reads an outside system (Loki). */
export const readOutsideAnnotations = { ...READ_ONLY_ANNOTATIONS, idempotentHint: false, openWorldHint: true };

export const labelsSchema = z.record(z.string(), z.string());

import { z } from 'zod';

import { defineFsTool } from './define.js';
import { pathField, truncatedReasonField } from './schemas.js';

export const editFile = defineFsTool({
  name: 'edit_file',
  title: 'Edit a file',
  toolset: 'write',
  description:
    'Replaces text in a file: each old_text must occur exactly once (whitespace included), edits apply in order, ' +
    'and if any edit fails nothing is written. Returns a unified diff; dry_run=true only previews it. The write ' +
    'is atomic and refused if the file changed meanwhile.',
  input: z.object({
    path: pathField('File'),
    edits: z
      .array(
        z.object({
          old_text: z.string().min(1).describe('Exact text to replace; must match exactly once'),
          new_text: z.string().describe('Replacement text'),
        }),
      )
      .min(1)
      .max(100),
    dry_run: z.boolean().optional().describe('Preview the diff without writing (default false)'),
  }),
  output: z.object({
    path: z.string(),
    diff: z.string(),
    applied: z.boolean(),
    edits: z.number(),
    truncated: z.boolean().describe('The diff was cut to the answer size, or not computed (too large)'),
    truncated_reason: truncatedReasonField,
  }),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  handler: async ({ path, edits, dry_run }, ctx) => ctx.deps.files.editFile(path, edits, dry_run ?? false, ctx.signal),
});

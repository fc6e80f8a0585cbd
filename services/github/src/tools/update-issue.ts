import { z } from 'zod';

import { updateIssue as update, writtenIssueSchema } from '../issues.js';
import { defineGitHubTool } from './define.js';
import {
  bodySchema,
  callOf,
  labelSchema,
  loginSchema,
  numberSchema,
  ownerSchema,
  repoSchema,
  titleSchema,
} from './schemas.js';

export const updateIssue = defineGitHubTool({
  name: 'update_issue',
  title: 'Update an issue',
  toolset: 'issues',
  description:
    'Changes an issue: title, body, state (close with state_reason completed or not_planned, or reopen), labels, ' +
    'assignees. Only the fields given change; `labels` and `assignees` replace the current lists ([] clears them).',
  input: z
    .object({
      owner: ownerSchema,
      repo: repoSchema,
      number: numberSchema,
      title: titleSchema.optional(),
      body: bodySchema.optional(),
      state: z.enum(['open', 'closed']).optional(),
      state_reason: z.enum(['completed', 'not_planned', 'reopened']).optional(),
      labels: z.array(labelSchema).max(100).optional(),
      assignees: z.array(loginSchema).max(10).optional(),
    })
    .refine(
      (input) =>
        [input.title, input.body, input.state, input.state_reason, input.labels, input.assignees].some(
          (field) => field !== undefined,
        ),
      'give at least one of title, body, state, state_reason, labels, assignees',
    ),
  output: writtenIssueSchema,
  // It overwrites (a body, the label list), but the same call twice leaves the same issue.
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: async (input, ctx) => update(ctx.deps.github, callOf(ctx), input),
});

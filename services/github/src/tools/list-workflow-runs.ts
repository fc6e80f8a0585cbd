import { z } from 'zod';

import { listWorkflowRuns as list, listWorkflowRunsSchema, RUN_STATUSES } from '../actions.js';
import { defineGitHubTool } from './define.js';
import {
  callOf,
  idSchema,
  ownerSchema,
  pageSchema,
  perPageSchema,
  READ_ANNOTATIONS,
  refSchema,
  repoSchema,
} from './schemas.js';

export const listWorkflowRuns = defineGitHubTool({
  name: 'list_workflow_runs',
  title: 'List workflow runs',
  toolset: 'actions',
  description:
    'Lists GitHub Actions workflow runs of a repository (newest first), optionally of one workflow, branch, event ' +
    'or status (e.g. status "failure"). Paged.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    workflow_id: z
      .union([idSchema, z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be a workflow file name such as ci.yml')])
      .optional()
      .describe('A workflow id, or its file name (e.g. "ci.yml")'),
    branch: refSchema.optional(),
    event: z
      .string()
      .regex(/^[a-z_]{1,64}$/, 'must be an event name such as push or pull_request')
      .optional()
      .describe('Triggering event, e.g. push, pull_request, schedule, workflow_dispatch'),
    status: z.enum(RUN_STATUSES).optional(),
    page: pageSchema,
    per_page: perPageSchema,
  }),
  output: listWorkflowRunsSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => list(ctx.deps.github, callOf(ctx), input),
});

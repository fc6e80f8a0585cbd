import { z } from 'zod';

import { getWorkflowRun as get, getWorkflowRunSchema } from '../actions.js';
import { defineGitHubTool } from './define.js';
import { callOf, idSchema, ownerSchema, pageSchema, perPageSchema, READ_ANNOTATIONS, repoSchema } from './schemas.js';

export const getWorkflowRun = defineGitHubTool({
  name: 'get_workflow_run',
  title: 'Get a workflow run',
  toolset: 'actions',
  description:
    'Returns one workflow run and its latest jobs with their steps; `failed_job_ids` lists the failed jobs, whose ' +
    'logs get_job_logs reads. Jobs are paged.',
  input: z.object({
    owner: ownerSchema,
    repo: repoSchema,
    run_id: idSchema.describe('The run id (list_workflow_runs)'),
    page: pageSchema.describe('Page of jobs, from 1'),
    per_page: perPageSchema.describe('Jobs per page (1-100)'),
  }),
  output: getWorkflowRunSchema,
  annotations: READ_ANNOTATIONS,
  handler: async (input, ctx) => get(ctx.deps.github, callOf(ctx), input),
});

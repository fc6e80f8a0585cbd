import { z } from 'zod';

import type { Call, GitHub, Paging, RepoRef } from './context.js';
import { listAnswer, listFields, listSchema } from './lists.js';
import { pageInfo } from './paging.js';
import { pageFields, untrustedFields } from './shapes.js';
import { readTail } from './streams.js';
import { fitList, jsonLength, largestFitting, UNTRUSTED } from './text.js';

const repoName = ({ owner, repo }: RepoRef) => `${owner}/${repo}`;
/** A log line longer than this is cut (minified output, progress bars). */
const MAX_LOG_LINE_CHARS = 4000;

// ── list_workflow_runs ──────────────────────────────────────────────────────────────────────

const runSchema = z.object({
  id: z.number(),
  name: z.string().nullable(),
  display_title: z.string().describe('The commit message or pull request title the run shows'),
  workflow_id: z.number(),
  run_number: z.number().int(),
  run_attempt: z.number().int().nullable(),
  event: z.string(),
  status: z.string().nullable(),
  conclusion: z.string().nullable(),
  head_branch: z.string().nullable(),
  head_sha: z.string(),
  actor: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  html_url: z.string(),
});
type RunOut = z.infer<typeof runSchema>;

interface GhRun {
  id: number;
  name?: string | null | undefined;
  display_title: string;
  workflow_id: number;
  run_number: number;
  run_attempt?: number | undefined;
  event: string;
  status: string | null;
  conclusion: string | null;
  head_branch: string | null;
  head_sha: string;
  actor?: { login: string } | null | undefined;
  created_at: string;
  updated_at: string;
  html_url: string;
}

function toRun(run: GhRun): RunOut {
  return {
    id: run.id,
    name: run.name ?? null,
    display_title: run.display_title,
    workflow_id: run.workflow_id,
    run_number: run.run_number,
    run_attempt: run.run_attempt ?? null,
    event: run.event,
    status: run.status,
    conclusion: run.conclusion,
    head_branch: run.head_branch,
    head_sha: run.head_sha,
    actor: run.actor?.login ?? null,
    created_at: run.created_at,
    updated_at: run.updated_at,
    html_url: run.html_url,
  };
}

export const listWorkflowRunsSchema = listSchema('workflow_runs', runSchema, { total_count: z.number().int() });

export const RUN_STATUSES = [
  'completed',
  'action_required',
  'cancelled',
  'failure',
  'neutral',
  'skipped',
  'stale',
  'success',
  'timed_out',
  'in_progress',
  'queued',
  'requested',
  'waiting',
  'pending',
] as const;

export interface ListRunsArgs extends RepoRef, Paging {
  workflow_id?: string | number | undefined;
  branch?: string | undefined;
  event?: string | undefined;
  status?: (typeof RUN_STATUSES)[number] | undefined;
}

/** GET …/actions/runs, or …/actions/workflows/{workflow_id}/runs for one workflow (its id or file name). */
export async function listWorkflowRuns(gh: GitHub, call: Call, args: ListRunsArgs) {
  const { owner, repo, workflow_id, branch, event, status, page, per_page } = args;
  const filters = {
    branch,
    event,
    status,
    page,
    per_page,
    request: gh.client.requestOptions(call),
  };
  const { data, headers } = await gh.client.call(`the workflow runs of repository ${repoName(args)}`, () =>
    workflow_id === undefined
      ? gh.client.rest.actions.listWorkflowRunsForRepo({ owner, repo, ...filters })
      : gh.client.rest.actions.listWorkflowRuns({ owner, repo, workflow_id, ...filters }),
  );
  return listAnswer('workflow_runs', data.workflow_runs.map(toRun), headers.link, args, call.budget, {
    total_count: data.total_count,
  });
}

// ── get_workflow_run ────────────────────────────────────────────────────────────────────────

const jobSchema = z.object({
  id: z.number(),
  name: z.string(),
  status: z.string(),
  conclusion: z.string().nullable(),
  started_at: z.string().nullable(),
  completed_at: z.string().nullable(),
  html_url: z.string().nullable(),
  steps: z.array(
    z.object({ number: z.number().int(), name: z.string(), status: z.string(), conclusion: z.string().nullable() }),
  ),
});

export const getWorkflowRunSchema = z.object({
  run: runSchema,
  jobs: z.array(jobSchema).describe("The run's latest jobs, this page"),
  failed_job_ids: z.array(z.number()).describe('Jobs of this page that failed: get_job_logs reads their logs'),
  jobs_page: z.object(pageFields),
  jobs_total: z.number().int(),
  truncated: listFields.truncated,
  omitted: z.number().int().optional(),
  ...untrustedFields,
});

export async function getWorkflowRun(gh: GitHub, call: Call, args: RepoRef & Paging & { run_id: number }) {
  const { owner, repo, run_id, page, per_page } = args;
  const what = `workflow run ${run_id} of repository ${repoName(args)}`;
  const [runAnswer, jobsAnswer] = await Promise.all([
    gh.client.call(what, () =>
      gh.client.rest.actions.getWorkflowRun({ owner, repo, run_id, request: gh.client.requestOptions(call) }),
    ),
    gh.client.call(`the jobs of ${what}`, () =>
      gh.client.rest.actions.listJobsForWorkflowRun({
        owner,
        repo,
        run_id,
        filter: 'latest',
        page,
        per_page,
        request: gh.client.requestOptions(call),
      }),
    ),
  ]);
  const jobs = jobsAnswer.data.jobs.map((job) => ({
    id: job.id,
    name: job.name,
    status: job.status,
    conclusion: job.conclusion,
    started_at: job.started_at ?? null,
    completed_at: job.completed_at ?? null,
    html_url: job.html_url,
    steps: (job.steps ?? []).map((step) => ({
      number: step.number,
      name: step.name,
      status: step.status,
      conclusion: step.conclusion,
    })),
  }));
  const answer = {
    run: toRun(runAnswer.data),
    jobs,
    failed_job_ids: jobs.filter((job) => job.conclusion === 'failure').map((job) => job.id),
    jobs_page: pageInfo(jobsAnswer.headers.link, page, per_page),
    jobs_total: jobsAnswer.data.total_count,
    truncated: false,
    ...UNTRUSTED,
  };
  return fitList(answer, 'jobs', call.budget);
}

// ── get_job_logs ────────────────────────────────────────────────────────────────────────────

export const getJobLogsSchema = z.object({
  job_id: z.number(),
  name: z.string(),
  status: z.string(),
  conclusion: z.string().nullable(),
  html_url: z.string().nullable(),
  log: z.string().describe('The last lines of the log, oldest first'),
  lines: z.number().int().describe('Lines in `log`'),
  total_lines: z.number().int().describe('Lines read from the log'),
  complete: z
    .boolean()
    .describe('false when the log is larger than GITHUB_MAX_RESPONSE_BYTES: its tail is that of the part read'),
  truncated: z.boolean().describe('Lines before these exist, or long lines were cut'),
  ...untrustedFields,
});

/**
 * The last `tail` lines of a job's log (GitHub redirects to a short-lived storage URL; the log is
 * streamed and only the tail is kept). The job itself is read alongside, for its name and outcome.
 */
export async function getJobLogs(gh: GitHub, call: Call, args: RepoRef & { job_id: number; tail: number }) {
  const { owner, repo, job_id, tail } = args;
  const what = `job ${job_id} of repository ${repoName(args)}`;
  const [jobAnswer, logAnswer] = await Promise.all([
    gh.client.call(what, () =>
      gh.client.rest.actions.getJobForWorkflowRun({ owner, repo, job_id, request: gh.client.requestOptions(call) }),
    ),
    gh.client.call(`the log of ${what}`, () =>
      gh.client.rest.actions.downloadJobLogsForWorkflowRun({
        owner,
        repo,
        job_id,
        request: gh.client.requestOptions(call, { stream: true }),
      }),
    ),
  ]);
  const read = await readTail(logAnswer.data as ReadableStream<Uint8Array>, {
    lines: tail,
    maxLineChars: MAX_LOG_LINE_CHARS,
    maxBytes: gh.limits.responseBytes,
  });
  const job = jobAnswer.data;
  const build = (lines: string[]) => ({
    job_id,
    name: job.name,
    status: job.status,
    conclusion: job.conclusion,
    html_url: job.html_url,
    log: lines.join('\n'),
    lines: lines.length,
    total_lines: read.total_lines,
    complete: read.complete,
    truncated: read.total_lines > lines.length || read.lines_cut || !read.complete,
    ...UNTRUSTED,
  });
  // Over the answer budget, the oldest lines of the tail go first.
  const keep = largestFitting(
    read.lines.length,
    (n) => jsonLength(build(read.lines.slice(read.lines.length - n))) <= call.budget,
  );
  return build(read.lines.slice(read.lines.length - keep));
}

import { addIssueComment } from './add-issue-comment.js';
import { createIssue } from './create-issue.js';
import { createPullRequest } from './create-pull-request.js';
import { getCommit } from './get-commit.js';
import { getFileContents } from './get-file-contents.js';
import { getIssue } from './get-issue.js';
import { getJobLogs } from './get-job-logs.js';
import { getMe } from './get-me.js';
import { getPullRequest } from './get-pull-request.js';
import { getPullRequestDiff } from './get-pull-request-diff.js';
import { getRepository } from './get-repository.js';
import { getWorkflowRun } from './get-workflow-run.js';
import { listBranches } from './list-branches.js';
import { listCommits } from './list-commits.js';
import { listIssues } from './list-issues.js';
import { listPullRequests } from './list-pull-requests.js';
import { listReleases } from './list-releases.js';
import { listTags } from './list-tags.js';
import { listWorkflowRuns } from './list-workflow-runs.js';
import { searchCode } from './search-code.js';
import { searchIssues } from './search-issues.js';
import { searchRepositories } from './search-repositories.js';
import { updateIssue } from './update-issue.js';

/** The one list of this service's tools, in the order tools/list shows them. */
export const tools = [
  getMe,
  searchRepositories,
  getRepository,
  getFileContents,
  listCommits,
  getCommit,
  searchCode,
  listBranches,
  listTags,
  listReleases,
  listIssues,
  getIssue,
  searchIssues,
  createIssue,
  addIssueComment,
  updateIssue,
  listPullRequests,
  getPullRequest,
  getPullRequestDiff,
  createPullRequest,
  listWorkflowRuns,
  getWorkflowRun,
  getJobLogs,
] as const;

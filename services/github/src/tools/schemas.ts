import { READ_ONLY_ANNOTATIONS, type ToolAnnotations, type ToolContext } from '@mcp-sse/core';
import { z } from 'zod';

import type { Config } from '../config.js';
import type { Call } from '../context.js';
import {
  checkAssigneeFilter,
  checkHead,
  checkLabel,
  checkLoginOrEmail,
  checkPath,
  checkRef,
  checkRepo,
  checkText,
  OWNER,
  REPO,
} from '../names.js';
import type { Deps } from './define.js';

/** A zod check from a names.ts rule (which returns the problem, or undefined). */
function rule(check: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = check(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  };
}

export const ownerSchema = z
  .string()
  .max(100)
  .regex(OWNER, 'must be a GitHub user or organization name (letters, digits, "-" and "_")')
  .describe('The owner of the repository: a user or organization login');

export const repoSchema = z
  .string()
  .max(100)
  .regex(REPO, 'must be a repository name (letters, digits, ".", "-" and "_")')
  .superRefine(rule(checkRepo))
  .describe('The repository name (without the owner)');

export const refSchema = z.string().max(255).superRefine(rule(checkRef));
export const pathSchema = z.string().max(4096).superRefine(rule(checkPath));
export const loginSchema = z.string().max(100).regex(OWNER, 'must be a GitHub login');
export const labelSchema = z.string().max(100).superRefine(rule(checkLabel));
export const headSchema = z.string().max(357).superRefine(rule(checkHead));
export const authorSchema = z.string().max(254).superRefine(rule(checkLoginOrEmail));
export const assigneeFilterSchema = z.string().max(100).superRefine(rule(checkAssigneeFilter));

export const querySchema = z
  .string()
  .min(1)
  .max(1024)
  .superRefine(rule(checkText))
  .describe("GitHub's search syntax, qualifiers included (e.g. `language:go stars:>100`)");
export const titleSchema = z.string().min(1).max(256).superRefine(rule(checkText));
export const bodySchema = z
  .string()
  .max(65_536)
  .superRefine(rule(checkText))
  .describe('Markdown, at most 65536 characters');

export const numberSchema = z.number().int().min(1).max(2_147_483_647).describe('The issue or pull request number');
export const idSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const timestampSchema = z.iso.datetime({ offset: true }).describe('ISO 8601 time, e.g. 2025-01-31T00:00:00Z');

export const pageSchema = z.number().int().min(1).max(1000).default(1).describe('Page to read, from 1');
export const perPageSchema = z.number().int().min(1).max(100).default(30).describe('Items per page (1-100)');

/** Reads from GitHub: an open world, never changed by the call. */
export const READ_ANNOTATIONS: ToolAnnotations = { ...READ_ONLY_ANNOTATIONS, openWorldHint: true };
/** Creates something new on GitHub (an issue, a comment): calling twice creates two. */
export const CREATE_ANNOTATIONS: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** The call as the domain sees it: the signal, when its time is up, and its answer's byte budget. */
export function callOf(ctx: ToolContext<Config, Deps>): Call {
  return {
    signal: ctx.signal,
    deadline: Date.now() + ctx.config.MCP_TOOL_TIMEOUT_MS,
    budget: ctx.config.MCP_MAX_RESULT_BYTES,
  };
}

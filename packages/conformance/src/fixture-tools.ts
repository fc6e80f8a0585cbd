import { setTimeout as sleep } from 'node:timers/promises';

import { type ClientSession, ServiceError, toolDefiner } from '@mcp-sse/core';
import type { ElicitRequestFormParams } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import type { FixtureConfig } from './fixture-config.js';
import { TEST_AUDIO_BASE64, TEST_IMAGE_BASE64 } from './media.js';

/**
 * The tools the conformance suite calls by name (its "everything" reference server). Each is an
 * ordinary core tool: the registry lists, validates, runs and shapes them like any service's tools.
 */
const tool = toolDefiner<FixtureConfig, FixtureDeps, 'fixture'>();

export type FixtureDeps = Record<string, never>;

const harmless = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
/** Tools that ask the client (a model or a person) for something. */
const asksClient = { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true };

const noInput = z.object({});
const textOutput = z.object({ text: z.string() });
const text = (output: { text: string }) => [{ type: 'text' as const, text: output.text }];

export const testSimpleText = tool({
  name: 'test_simple_text',
  title: 'Simple text',
  toolset: 'fixture',
  description: 'Tests simple text content response',
  input: noInput,
  output: textOutput,
  annotations: harmless,
  content: text,
  handler: async () => ({ text: 'This is a simple text response for testing.' }),
});

const mediaOutput = z.object({ mimeType: z.string(), data: z.string() });

export const testImageContent = tool({
  name: 'test_image_content',
  title: 'Image content',
  toolset: 'fixture',
  description: 'Tests image content response',
  input: noInput,
  output: mediaOutput,
  annotations: harmless,
  content: ({ mimeType, data }) => [{ type: 'image', mimeType, data }],
  handler: async () => ({ mimeType: 'image/png', data: TEST_IMAGE_BASE64 }),
});

export const testAudioContent = tool({
  name: 'test_audio_content',
  title: 'Audio content',
  toolset: 'fixture',
  description: 'Tests audio content response',
  input: noInput,
  output: mediaOutput,
  annotations: harmless,
  content: ({ mimeType, data }) => [{ type: 'audio', mimeType, data }],
  handler: async () => ({ mimeType: 'audio/wav', data: TEST_AUDIO_BASE64 }),
});

const resourceOutput = z.object({ uri: z.string(), mimeType: z.string(), text: z.string() });

export const testEmbeddedResource = tool({
  name: 'test_embedded_resource',
  title: 'Embedded resource',
  toolset: 'fixture',
  description: 'Tests embedded resource content response',
  input: noInput,
  output: resourceOutput,
  annotations: harmless,
  content: (resource) => [{ type: 'resource', resource }],
  handler: async () => ({
    uri: 'test://embedded-resource',
    mimeType: 'text/plain',
    text: 'This is an embedded resource content.',
  }),
});

export const testMultipleContentTypes = tool({
  name: 'test_multiple_content_types',
  title: 'Multiple content types',
  toolset: 'fixture',
  description: 'Tests response with multiple content types (text, image, resource)',
  input: noInput,
  output: z.object({ text: z.string(), image: mediaOutput, resource: resourceOutput }),
  annotations: harmless,
  content: ({ text, image, resource }) => [
    { type: 'text', text },
    { type: 'image', ...image },
    { type: 'resource', resource },
  ],
  handler: async () => ({
    text: 'Multiple content types test:',
    image: { mimeType: 'image/png', data: TEST_IMAGE_BASE64 },
    resource: {
      uri: 'test://mixed-content-resource',
      mimeType: 'application/json',
      text: JSON.stringify({ test: 'data', value: 123 }),
    },
  }),
});

export const testToolWithLogging = tool({
  name: 'test_tool_with_logging',
  title: 'Tool with logging',
  toolset: 'fixture',
  description: 'Tests tool that emits log messages during execution',
  input: noInput,
  output: textOutput,
  annotations: harmless,
  content: text,
  handler: async (_input, ctx) => {
    await ctx.log('info', 'Tool execution started');
    await sleep(50, undefined, { signal: ctx.signal });
    await ctx.log('info', 'Tool processing data');
    await sleep(50, undefined, { signal: ctx.signal });
    await ctx.log('info', 'Tool execution completed');
    return { text: 'Tool with logging executed successfully' };
  },
});

export const testToolWithProgress = tool({
  name: 'test_tool_with_progress',
  title: 'Tool with progress',
  toolset: 'fixture',
  description: 'Tests tool that reports progress notifications',
  input: noInput,
  output: textOutput,
  annotations: harmless,
  content: text,
  handler: async (_input, ctx) => {
    for (const step of [0, 50, 100]) {
      if (step > 0) await sleep(50, undefined, { signal: ctx.signal });
      await ctx.progress(step, 100, `Completed step ${step} of 100`);
    }
    return { text: 'Progress reported: 0, 50, 100 of 100' };
  },
});

export const testErrorHandling = tool({
  name: 'test_error_handling',
  title: 'Error handling',
  toolset: 'fixture',
  description: 'Tests error response handling',
  input: noInput,
  annotations: harmless,
  handler: async () => {
    throw new ServiceError('UPSTREAM_FAILED', 'This tool intentionally returns an error for testing');
  },
});

export const testReconnection = tool({
  name: 'test_reconnection',
  title: 'Reconnection',
  toolset: 'fixture',
  // SEP-1699 wants the POST stream closed mid-call and the answer replayed after Last-Event-ID. The SDK
  // transport does that only with an event store and for protocol >= 2025-11-25, and the suite's
  // scenario sends 2025-03-26: so this answers on the open stream (the scenario reports INFO + 2 warnings).
  description: 'Answers on the open stream after 100 ms (SEP-1699 reconnection is not exercised: see the README).',
  input: noInput,
  output: textOutput,
  annotations: harmless,
  content: text,
  handler: async (_input, ctx) => {
    await sleep(100, undefined, { signal: ctx.signal });
    return {
      text: 'Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.',
    };
  },
});

/** Sampling and elicitation need the calling session; /rpc has none. */
function sessionOf(session: ClientSession | undefined, tool: string): ClientSession {
  if (!session) throw new ServiceError('UNAVAILABLE', `${tool} needs an MCP session (/sse or /mcp), not /rpc`);
  return session;
}

export const testSampling = tool({
  name: 'test_sampling',
  title: 'Sampling',
  toolset: 'fixture',
  description: 'Tests server-initiated sampling (LLM completion request)',
  input: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
  output: z.object({ text: z.string(), model: z.string() }),
  annotations: asksClient,
  content: text,
  handler: async ({ prompt }, ctx) => {
    const result = await sessionOf(ctx.session, 'test_sampling').createMessage({
      messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
      maxTokens: 100,
    });
    const answer = result.content.type === 'text' ? result.content.text : `[${result.content.type}]`;
    return { text: `LLM response: ${answer}`, model: result.model };
  },
});

const elicitationOutput = z.object({
  text: z.string(),
  action: z.enum(['accept', 'decline', 'cancel']),
  content: z.record(z.string(), z.unknown()).optional(),
});

/** Asks the client and reports its answer as the reference server words it. */
async function elicit(
  session: ClientSession | undefined,
  tool: string,
  params: ElicitRequestFormParams,
  prefix: string,
): Promise<z.input<typeof elicitationOutput>> {
  const { action, content } = await sessionOf(session, tool).elicit(params);
  return {
    text: `${prefix}: action=${action}, content=${JSON.stringify(content ?? {})}`,
    action,
    ...(content ? { content } : {}),
  };
}

export const testElicitation = tool({
  name: 'test_elicitation',
  title: 'Elicitation',
  toolset: 'fixture',
  description: 'Tests server-initiated elicitation (user input request)',
  input: z.object({ message: z.string().describe('The message to show the user') }),
  output: elicitationOutput,
  annotations: asksClient,
  content: text,
  handler: async ({ message }, ctx) =>
    elicit(
      ctx.session,
      'test_elicitation',
      {
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      },
      'User response',
    ),
});

export const testElicitationDefaults = tool({
  name: 'test_elicitation_sep1034_defaults',
  title: 'Elicitation with defaults',
  toolset: 'fixture',
  description: 'Tests elicitation with default values per SEP-1034',
  input: noInput,
  output: elicitationOutput,
  annotations: asksClient,
  content: text,
  handler: async (_input, ctx) =>
    elicit(
      ctx.session,
      'test_elicitation_sep1034_defaults',
      {
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      },
      'Elicitation completed',
    ),
});

export const testElicitationEnums = tool({
  name: 'test_elicitation_sep1330_enums',
  title: 'Elicitation with enums',
  toolset: 'fixture',
  description: 'Tests elicitation with enum schema improvements per SEP-1330',
  input: noInput,
  output: elicitationOutput,
  annotations: asksClient,
  content: text,
  handler: async (_input, ctx) =>
    elicit(
      ctx.session,
      'test_elicitation_sep1330_enums',
      {
        message: 'Please select options from the enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Select one option',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Select one option with titles',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Select one option (legacy)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Select multiple options',
              minItems: 1,
              maxItems: 3,
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Select multiple options with titles',
              minItems: 1,
              maxItems: 3,
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      },
      'Elicitation completed',
    ),
});

/** `$defs` comes from the `id` metadata; a strict object gives `additionalProperties: false`. */
const address = z.object({ street: z.string().optional(), city: z.string().optional() }).meta({ id: 'address' });

export const jsonSchema202012Tool = tool({
  name: 'json_schema_2020_12_tool',
  title: 'JSON Schema 2020-12',
  toolset: 'fixture',
  description: 'Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)',
  input: z.strictObject({ name: z.string().optional(), address: address.optional() }),
  output: textOutput,
  annotations: harmless,
  content: text,
  handler: async (input) => ({ text: `JSON Schema 2020-12 tool called with: ${JSON.stringify(input)}` }),
});

export const fixtureTools = [
  testSimpleText,
  testImageContent,
  testAudioContent,
  testEmbeddedResource,
  testMultipleContentTypes,
  testToolWithLogging,
  testToolWithProgress,
  testErrorHandling,
  testReconnection,
  testSampling,
  testElicitation,
  testElicitationDefaults,
  testElicitationEnums,
  jsonSchema202012Tool,
];

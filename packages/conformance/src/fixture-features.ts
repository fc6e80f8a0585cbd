import type { ServerExtensionContext } from '@mcp-sse/core';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  type GetPromptResult,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  type Prompt,
  ReadResourceRequestSchema,
  type ReadResourceResult,
  type Resource,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

import type { FixtureConfig } from './fixture-config.js';
import type { FixtureDeps } from './fixture-tools.js';
import { TEST_IMAGE_BASE64 } from './media.js';

/** MCP's code for an unknown resource URI. */
const RESOURCE_NOT_FOUND = -32002;

type Contents = ReadResourceResult['contents'];

const STATIC_RESOURCES: { resource: Resource; contents: Contents }[] = [
  {
    resource: {
      uri: 'test://static-text',
      name: 'static-text',
      title: 'Static Text Resource',
      description: 'A static text resource for testing',
      mimeType: 'text/plain',
    },
    contents: [
      { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
    ],
  },
  {
    resource: {
      uri: 'test://static-binary',
      name: 'static-binary',
      title: 'Static Binary Resource',
      description: 'A static binary resource (image) for testing',
      mimeType: 'image/png',
    },
    contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: TEST_IMAGE_BASE64 }],
  },
  {
    resource: {
      uri: 'test://watched-resource',
      name: 'watched-resource',
      title: 'Watched Resource',
      description: 'A resource clients may subscribe to',
      mimeType: 'text/plain',
    },
    contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }],
  },
];

const TEMPLATE = {
  uriTemplate: 'test://template/{id}/data',
  name: 'template',
  title: 'Resource Template',
  description: 'A resource template with parameter substitution',
  mimeType: 'application/json',
};
const TEMPLATE_URI = /^test:\/\/template\/([^/]+)\/data$/;

function readResource(uri: string): Contents {
  const known = STATIC_RESOURCES.find((entry) => entry.resource.uri === uri);
  if (known) return known.contents;
  const match = TEMPLATE_URI.exec(uri);
  if (match?.[1] !== undefined) {
    const id = decodeURIComponent(match[1]);
    return [
      {
        uri,
        mimeType: 'application/json',
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
      },
    ];
  }
  throw new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`);
}

interface FixturePrompt {
  prompt: Prompt;
  messages(args: Record<string, string>): GetPromptResult['messages'];
}

const PROMPTS: FixturePrompt[] = [
  {
    prompt: {
      name: 'test_simple_prompt',
      title: 'Simple Test Prompt',
      description: 'A simple prompt without arguments',
    },
    messages: () => [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  },
  {
    prompt: {
      name: 'test_prompt_with_arguments',
      title: 'Prompt With Arguments',
      description: 'A prompt with required arguments',
      arguments: [
        { name: 'arg1', description: 'First test argument', required: true },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
    },
    messages: ({ arg1, arg2 }) => [
      {
        role: 'user',
        content: { type: 'text', text: `Prompt with arguments: arg1='${arg1 ?? ''}', arg2='${arg2 ?? ''}'` },
      },
    ],
  },
  {
    prompt: {
      name: 'test_prompt_with_embedded_resource',
      title: 'Prompt With Embedded Resource',
      description: 'A prompt that includes an embedded resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    messages: ({ resourceUri }) => [
      {
        role: 'user',
        content: {
          type: 'resource',
          resource: { uri: resourceUri ?? '', mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
        },
      },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
    ],
  },
  {
    prompt: {
      name: 'test_prompt_with_image',
      title: 'Prompt With Image',
      description: 'A prompt that includes image content',
    },
    messages: () => [
      { role: 'user', content: { type: 'image', data: TEST_IMAGE_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  },
];

/** Completion candidates per prompt argument or template variable. */
const COMPLETIONS: Record<string, readonly string[]> = {
  'test_prompt_with_arguments/arg1': ['paris', 'park', 'party', 'test', 'testing'],
  'test_prompt_with_arguments/arg2': ['alpha', 'beta', 'gamma'],
  'test://template/{id}/data/id': ['1', '2', '3', '123'],
};
const MAX_COMPLETIONS = 100;

/**
 * Resources, prompts, completions and subscriptions: what the suite expects beyond tools, added to
 * each session through the core's extendServer hook. Subscriptions are per session.
 */
export function extendFixtureServer(server: Server, _ctx: ServerExtensionContext<FixtureConfig, FixtureDeps>): void {
  server.registerCapabilities({
    resources: { subscribe: true, listChanged: false },
    prompts: { listChanged: false },
    completions: {},
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: STATIC_RESOURCES.map((entry) => entry.resource),
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [TEMPLATE] }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) => ({ contents: readResource(request.params.uri) }));

  const subscriptions = new Set<string>();
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    readResource(request.params.uri); // unknown URIs are refused as on read
    subscriptions.add(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscriptions.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({ prompts: PROMPTS.map((entry) => entry.prompt) }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const { name, arguments: args = {} } = request.params;
    const entry = PROMPTS.find((candidate) => candidate.prompt.name === name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
    const missing = (entry.prompt.arguments ?? []).filter((arg) => arg.required && args[arg.name] === undefined);
    if (missing.length > 0) {
      throw new McpError(
        ErrorCode.InvalidParams,
        `Prompt ${name} needs argument(s): ${missing.map((arg) => arg.name).join(', ')}`,
      );
    }
    return { description: entry.prompt.description, messages: entry.messages(args) };
  });

  server.setRequestHandler(CompleteRequestSchema, (request) => {
    const { ref, argument } = request.params;
    const owner = ref.type === 'ref/prompt' ? ref.name : ref.uri;
    const candidates = COMPLETIONS[`${owner}/${argument.name}`] ?? [];
    const matches = candidates.filter((value) => value.startsWith(argument.value));
    return {
      completion: {
        values: matches.slice(0, MAX_COMPLETIONS),
        total: matches.length,
        hasMore: matches.length > MAX_COMPLETIONS,
      },
    };
  });
}

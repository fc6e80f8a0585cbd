/**
 * The OpenAPI 3.1 document of the REST API, generated from the same zod schemas as the tools
 * (z.toJSONSchema), so the document, the validation and the tools cannot drift apart.
 */
import { z } from 'zod';

import {
  deleteInput,
  deleteOutput,
  getOutput,
  listInput,
  listOutput,
  searchInput,
  searchOutput,
  statsOutput,
  storeInput,
  storeOutput,
  tagsInput,
  tagsOutput,
  updateInput,
  updateOutput,
} from './schemas.js';

type Schema = Record<string, unknown>;

const input = (schema: z.ZodType): Schema => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const output = (schema: z.ZodType): Schema => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' });

const errorSchema: Schema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

function json(schema: Schema, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

const errors = {
  '400': json(errorSchema, 'Invalid arguments'),
  '401': json(errorSchema, 'Missing or wrong API key'),
  '404': json(errorSchema, 'No such memory'),
  '413': json(errorSchema, 'Content or metadata over its size limit'),
  '503': json(errorSchema, 'Busy; retry shortly'),
};

/** Query parameters from an object schema's properties (lists are comma-separated). */
function queryParameters(schema: z.ZodObject): Schema[] {
  const properties = (input(schema)['properties'] ?? {}) as Record<string, Schema>;
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    description:
      property['type'] === 'array'
        ? `${typeof property['description'] === 'string' ? property['description'] : name} (comma-separated)`
        : property['description'],
    schema: property['type'] === 'array' ? { type: 'string' } : property,
  }));
}

const hashParameter = {
  name: 'hash',
  in: 'path',
  required: true,
  description: 'Content hash (64 hexadecimal digits)',
  schema: { type: 'string' },
};

export function buildOpenApi(title: string): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title,
      version: '1',
      description:
        'Long-term memory: store, find (by meaning, words or both), tag and delete memories. Same API keys as MCP ' +
        '(Authorization: Bearer). Live events: GET /events (text/event-stream).',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }],
    paths: {
      '/api/memories': {
        get: {
          summary: 'List memories, newest first (paged, filtered)',
          parameters: queryParameters(listInput),
          responses: { '200': json(output(listOutput), 'A page of memories'), ...errors },
        },
        post: {
          summary: 'Store a memory (deduplicated by content hash)',
          requestBody: { required: true, content: { 'application/json': { schema: input(storeInput) } } },
          responses: {
            '201': json(output(storeOutput), 'Stored'),
            '200': json(output(storeOutput), 'The same content was already stored (unchanged)'),
            ...errors,
          },
        },
      },
      '/api/memories/{hash}': {
        get: {
          summary: 'One memory',
          parameters: [hashParameter],
          responses: { '200': json(output(getOutput), 'The memory'), ...errors },
        },
        patch: {
          summary: "Replace a memory's tags, type or metadata",
          parameters: [hashParameter],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: input(updateInput.omit({ hash: true })) } },
          },
          responses: { '200': json(output(updateOutput), 'The memory after the change'), ...errors },
        },
        delete: {
          summary: 'Delete one memory',
          parameters: [hashParameter, { name: 'dry_run', in: 'query', required: false, schema: { type: 'boolean' } }],
          responses: { '200': json(output(deleteOutput), 'Deleted'), ...errors },
        },
      },
      '/api/memories/delete': {
        post: {
          summary: 'Delete by hash, tags, type or time (bulk needs confirm: true unless dry_run)',
          requestBody: { required: true, content: { 'application/json': { schema: input(deleteInput) } } },
          responses: { '200': json(output(deleteOutput), 'What was (or would be) deleted'), ...errors },
        },
      },
      '/api/search': {
        post: {
          summary: 'Search: semantic, exact (full-text) or hybrid',
          requestBody: { required: true, content: { 'application/json': { schema: input(searchInput) } } },
          responses: { '200': json(output(searchOutput), 'Results, best first'), ...errors },
        },
      },
      '/api/tags': {
        get: {
          summary: 'Tags in use with their counts',
          parameters: queryParameters(tagsInput),
          responses: { '200': json(output(tagsOutput), 'Tags, most used first'), ...errors },
        },
      },
      '/api/stats': {
        get: { summary: 'Counts and sizes', responses: { '200': json(output(statsOutput), 'Statistics'), ...errors } },
      },
      '/api/events/token': {
        post: {
          summary: 'A short-lived token for GET /events?token= (EventSource cannot send headers)',
          responses: {
            '200': json(
              {
                type: 'object',
                properties: { token: { type: 'string' }, expires_at: { type: 'string' } },
                required: ['token', 'expires_at'],
              },
              'The token',
            ),
            ...errors,
          },
        },
      },
      '/events': {
        get: {
          summary: 'Live events: memory_stored, memory_updated, memory_deleted (SSE, id: fields, Last-Event-ID resume)',
          security: [{ bearer: [] }, {}],
          parameters: [
            { name: 'token', in: 'query', required: false, schema: { type: 'string' } },
            { name: 'last_event_id', in: 'query', required: false, schema: { type: 'integer' } },
          ],
          responses: { '200': { description: 'text/event-stream', content: { 'text/event-stream': {} } }, ...errors },
        },
      },
    },
  };
}

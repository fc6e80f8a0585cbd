import type { ServerResponse } from 'node:http';

import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Identity, ToolLogger } from '../define-tool.js';
import { JSON_RPC } from '../errors.js';
import { type JsonRpcId, rpcError, rpcResult } from '../json-rpc.js';
import { RpcError } from '../registry.js';
import type { CoreState } from '../state.js';

interface RpcRequest {
  jsonrpc: '2.0';
  id?: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

function isRpcRequest(value: unknown): value is RpcRequest {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const id = v['id'];
  const params = v['params'];
  return (
    v['jsonrpc'] === '2.0' &&
    typeof v['method'] === 'string' &&
    (id === undefined || id === null || typeof id === 'string' || typeof id === 'number') &&
    (params === undefined || (params !== null && typeof params === 'object' && !Array.isArray(params)))
  );
}

type RpcAnswer = { body: unknown; status: number } | undefined;

/** What /rpc needs of the HTTP exchange, whoever serves it (fastify or the fast lane). */
export interface RpcExchange {
  identity: Identity;
  rateKey: string;
  requestId: string;
  logger: ToolLogger;
  /** The response, to cancel a call when the client hangs up before its answer. */
  response: ServerResponse;
}

/** The HTTP answer to one POST /rpc: no body means an empty 202. */
export interface RpcReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Plain JSON-RPC 2.0 on POST /rpc: tools/list, tools/call, ping (and initialize, answered
 * statelessly), no session, for curl, cron and scripts. Batches are accepted.
 */
export function createRpcHandler(state: CoreState): (body: unknown, exchange: RpcExchange) => Promise<RpcReply> {
  const { registry, service } = state;

  const initializeResult = (params: Record<string, unknown> | undefined) => {
    const requested = params?.['protocolVersion'];
    const protocolVersion =
      typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
        ? requested
        : LATEST_PROTOCOL_VERSION;
    return {
      protocolVersion,
      capabilities: { tools: { listChanged: false }, logging: {} },
      serverInfo: { name: `mcp-${service.name}`, version: service.version },
      ...(service.instructions ? { instructions: service.instructions } : {}),
    };
  };

  const call = async (params: Record<string, unknown> | undefined, exchange: RpcExchange) => {
    // A client that hangs up before the answer cancels the call.
    let cancel: ((reason?: unknown) => void) | undefined;
    const { response } = exchange;
    const onClose = () => {
      if (!response.writableFinished) cancel?.();
    };
    response.once('close', onClose);
    try {
      return await registry.call(params?.['name'] as string, params?.['arguments'], {
        identity: exchange.identity,
        rateKey: exchange.rateKey,
        transport: 'rpc',
        requestId: exchange.requestId,
        logger: exchange.logger,
        bindCancel: (fn) => {
          cancel = fn;
        },
      });
    } finally {
      response.off('close', onClose);
    }
  };

  const handle = async (message: unknown, exchange: RpcExchange): Promise<RpcAnswer> => {
    if (!isRpcRequest(message)) {
      return { status: 400, body: rpcError(JSON_RPC.INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 request') };
    }
    const id = message.id ?? null;
    const isNotification = message.id === undefined;
    const respond = (result: unknown): RpcAnswer =>
      isNotification ? undefined : { status: 200, body: rpcResult(id, result) };
    switch (message.method) {
      case 'ping':
        return respond({});
      case 'initialize':
        return respond(initializeResult(message.params));
      case 'notifications/initialized':
        return undefined;
      case 'tools/list':
        return respond(registry.listResult);
      case 'tools/call': {
        if (typeof message.params?.['name'] !== 'string') {
          return {
            status: 200,
            body: rpcError(JSON_RPC.INVALID_PARAMS, 'Invalid params: "name" must be a string', id),
          };
        }
        try {
          const outcome = await call(message.params, exchange);
          if (outcome.errorCode === 'RATE_LIMITED') {
            return { status: 429, body: rpcResult(id, outcome.result) };
          }
          return respond(outcome.result);
        } catch (error) {
          if (error instanceof RpcError) return { status: 200, body: rpcError(error.code, error.message, id) };
          throw error;
        }
      }
      default:
        return isNotification
          ? undefined
          : { status: 200, body: rpcError(JSON_RPC.METHOD_NOT_FOUND, `Method not found: ${message.method}`, id) };
    }
  };

  return async (body, exchange) => {
    if (Array.isArray(body)) {
      if (body.length === 0)
        return { status: 400, body: rpcError(JSON_RPC.INVALID_REQUEST, 'Invalid Request: empty batch') };
      const answers = await Promise.all(body.map((message) => handle(message, exchange)));
      const out = answers.filter((answer) => answer !== undefined).map((answer) => answer.body);
      return out.length === 0 ? { status: 202 } : { status: 200, body: out };
    }
    const answer = await handle(body, exchange);
    if (!answer) return { status: 202 };
    if (answer.status === 429) return { status: 429, body: answer.body, headers: { 'retry-after': '60' } };
    return answer;
  };
}

/**
 * Serves POST /rpc through fastify (the fast lane takes most of them first: http-lane.ts), and the
 * original plan's endpoint names: POST /mcp/v1/initialize, /mcp/v1/tools/list, /mcp/v1/tools/call,
 * which take either a JSON-RPC envelope or the bare params.
 */
export function rpcPlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
  const handler = createRpcHandler(state);
  const send = async (reply: FastifyReply, body: unknown, request: FastifyRequest) => {
    const answer = await handler(body, {
      identity: request.identity,
      rateKey: request.rateKey,
      requestId: String(request.id),
      logger: request.log,
      response: reply.raw,
    });
    if (answer.headers) void reply.headers(answer.headers);
    return answer.body === undefined ? reply.code(answer.status).send() : reply.code(answer.status).send(answer.body);
  };

  app.post('/rpc', (request, reply) => send(reply, request.body, request));

  // The original plan's endpoints. A bare params body is wrapped into the method's envelope.
  const alias = (method: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (isRpcRequest(body)) {
      if (body.method !== method) {
        return reply
          .code(400)
          .send(
            rpcError(
              JSON_RPC.INVALID_REQUEST,
              `This endpoint takes "${method}", not "${body.method}"`,
              body.id ?? null,
            ),
          );
      }
      return send(reply, body, request);
    }
    const params = body === undefined || body === null ? {} : body;
    if (typeof params !== 'object' || Array.isArray(params)) {
      return reply.code(400).send(rpcError(JSON_RPC.INVALID_REQUEST, 'Invalid Request: expected a JSON object'));
    }
    return send(reply, { jsonrpc: '2.0', id: 1, method, params }, request);
  };
  app.post('/mcp/v1/initialize', alias('initialize'));
  app.post('/mcp/v1/tools/list', alias('tools/list'));
  app.post('/mcp/v1/tools/call', alias('tools/call'));
  done();
}

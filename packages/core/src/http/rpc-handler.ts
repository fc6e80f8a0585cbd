import type { ServerResponse } from 'node:http';

import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';

import type { Identity, ToolLogger } from '../define-tool.js';
import { ERROR_CODES, rpcFailure } from '../errors.js';
import { type JsonRpcId, rpcError, rpcResult } from '../json-rpc.js';
import { type CallOutcome, RpcError, type ToolRegistry } from '../registry/registry.js';

interface RpcRequest {
  jsonrpc: '2.0';
  id?: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export function isRpcRequest(value: unknown): value is RpcRequest {
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

/** What the /rpc handler needs to know of the service. */
export interface RpcHandlerOptions {
  registry: ToolRegistry;
  serverInfo: { name: string; version: string };
  instructions?: string;
}

type Answer = RpcReply | undefined;

/**
 * Plain JSON-RPC 2.0 on POST /rpc: tools/list, tools/call, ping (and initialize, answered
 * statelessly), no session, for curl, cron and scripts. Batches are accepted. Errors inside a valid
 * request travel in a 200 answer (JSON-RPC over HTTP), except a rate-limited call: 429.
 */
export function createRpcHandler(
  options: RpcHandlerOptions,
): (body: unknown, exchange: RpcExchange) => Promise<RpcReply> {
  const { registry, serverInfo, instructions } = options;

  const initializeResult = (params: Record<string, unknown> | undefined) => {
    const requested = params?.['protocolVersion'];
    const protocolVersion =
      typeof requested === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(requested)
        ? requested
        : LATEST_PROTOCOL_VERSION;
    return {
      protocolVersion,
      capabilities: { tools: { listChanged: false }, logging: {} },
      serverInfo,
      ...(instructions ? { instructions } : {}),
    };
  };

  const call = async (params: Record<string, unknown> | undefined, exchange: RpcExchange): Promise<CallOutcome> => {
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

  const handle = async (message: unknown, exchange: RpcExchange): Promise<Answer> => {
    if (!isRpcRequest(message)) {
      return {
        status: ERROR_CODES.INVALID_REQUEST.http,
        body: rpcFailure('INVALID_REQUEST', 'Invalid Request: not a JSON-RPC 2.0 request'),
      };
    }
    const id = message.id ?? null;
    const isNotification = message.id === undefined;
    const respond = (result: unknown): Answer =>
      isNotification ? undefined : { status: 200, body: rpcResult(id, result) };
    switch (message.method) {
      case 'ping':
        return respond({});
      case 'initialize':
        return respond(initializeResult(message.params));
      case 'notifications/initialized':
        return undefined;
      case 'tools/list':
        return respond(registry.listFor(exchange.identity));
      case 'tools/call': {
        if (typeof message.params?.['name'] !== 'string') {
          return { status: 200, body: rpcFailure('INVALID_INPUT', 'Invalid params: "name" must be a string', id) };
        }
        try {
          const outcome = await call(message.params, exchange);
          if (outcome.errorCode === 'RATE_LIMITED') {
            return {
              status: ERROR_CODES.RATE_LIMITED.http,
              body: rpcResult(id, outcome.result),
              headers: { 'retry-after': String(outcome.retryAfter ?? 1) },
            };
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
          : { status: 200, body: rpcFailure('METHOD_NOT_FOUND', `Method not found: ${message.method}`, id) };
    }
  };

  return async (body, exchange) => {
    if (Array.isArray(body)) {
      if (body.length === 0) {
        return {
          status: ERROR_CODES.INVALID_REQUEST.http,
          body: rpcFailure('INVALID_REQUEST', 'Invalid Request: empty batch'),
        };
      }
      const answers = await Promise.all(body.map((message) => handle(message, exchange)));
      const out = answers.filter((answer) => answer !== undefined).map((answer) => answer.body);
      return out.length === 0 ? { status: 202 } : { status: 200, body: out };
    }
    return (await handle(body, exchange)) ?? { status: 202 };
  };
}

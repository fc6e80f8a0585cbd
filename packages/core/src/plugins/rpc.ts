import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

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

/**
 * Plain JSON-RPC 2.0 on POST /rpc: tools/list, tools/call, ping (and initialize, answered
 * statelessly), no session, for curl, cron and scripts. Batches are accepted. Also serves the
 * original plan's endpoint names: POST /mcp/v1/initialize, /mcp/v1/tools/list, /mcp/v1/tools/call,
 * which take either a JSON-RPC envelope or the bare params.
 */
export function rpcPlugin(app: FastifyInstance, state: CoreState, done: (err?: Error) => void): void {
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

  const handle = async (message: unknown, request: FastifyRequest, reply: FastifyReply): Promise<RpcAnswer> => {
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
        const name = message.params?.['name'];
        if (typeof name !== 'string') {
          return {
            status: 200,
            body: rpcError(JSON_RPC.INVALID_PARAMS, 'Invalid params: "name" must be a string', id),
          };
        }
        // A client that hangs up before the answer cancels the call.
        const controller = new AbortController();
        const onClose = () => {
          if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once('close', onClose);
        try {
          const outcome = await registry.call(name, message.params?.['arguments'], {
            identity: request.identity,
            rateKey: request.rateKey,
            transport: 'rpc',
            requestId: String(request.id),
            logger: request.log,
            signal: controller.signal,
          });
          if (outcome.errorCode === 'RATE_LIMITED') {
            return { status: 429, body: rpcResult(id, outcome.result) };
          }
          return respond(outcome.result);
        } catch (error) {
          if (error instanceof RpcError) return { status: 200, body: rpcError(error.code, error.message, id) };
          throw error;
        } finally {
          reply.raw.off('close', onClose);
        }
      }
      default:
        return isNotification
          ? undefined
          : { status: 200, body: rpcError(JSON_RPC.METHOD_NOT_FOUND, `Method not found: ${message.method}`, id) };
    }
  };

  const send = async (reply: FastifyReply, body: unknown, request: FastifyRequest) => {
    if (Array.isArray(body)) {
      if (body.length === 0)
        return reply.code(400).send(rpcError(JSON_RPC.INVALID_REQUEST, 'Invalid Request: empty batch'));
      const answers = await Promise.all(body.map((message) => handle(message, request, reply)));
      const out = answers.filter((answer) => answer !== undefined).map((answer) => answer.body);
      return out.length === 0 ? reply.code(202).send() : reply.code(200).send(out);
    }
    const answer = await handle(body, request, reply);
    if (!answer) return reply.code(202).send();
    if (answer.status === 429) void reply.header('retry-after', '60');
    return reply.code(answer.status).send(answer.body);
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

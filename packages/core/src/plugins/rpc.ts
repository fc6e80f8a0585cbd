import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { httpFailure } from '../errors.js';
import { type createRpcHandler, isRpcRequest } from '../http/rpc-handler.js';

/**
 * The fastify adapter of /rpc (http/rpc-handler.ts; the fast lane takes most of these POSTs first),
 * and the original plan's endpoint names: POST /mcp/v1/initialize, /mcp/v1/tools/list,
 * /mcp/v1/tools/call, which take either a JSON-RPC envelope or the bare params.
 */
export function rpcPlugin(
  app: FastifyInstance,
  { handler }: { handler: ReturnType<typeof createRpcHandler> },
  done: (err?: Error) => void,
): void {
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
        const failure = httpFailure('INVALID_REQUEST', `This endpoint takes "${method}", not "${body.method}"`, {
          id: body.id ?? null,
        });
        return reply.code(failure.status).send(failure.body);
      }
      return send(reply, body, request);
    }
    const params = body === undefined || body === null ? {} : body;
    if (typeof params !== 'object' || Array.isArray(params)) {
      const failure = httpFailure('INVALID_REQUEST', 'Invalid Request: expected a JSON object');
      return reply.code(failure.status).send(failure.body);
    }
    return send(reply, { jsonrpc: '2.0', id: 1, method, params }, request);
  };
  app.post('/mcp/v1/initialize', alias('initialize'));
  app.post('/mcp/v1/tools/list', alias('tools/list'));
  app.post('/mcp/v1/tools/call', alias('tools/call'));
  done();
}

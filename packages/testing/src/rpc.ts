export interface RpcOptions {
  headers?: Record<string, string>;
  path?: string;
  id?: number | string;
}

export interface RpcResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON body, or undefined when the body is empty. */
  body: unknown;
}

/** Plain JSON-RPC 2.0 over POST /rpc, as curl or a cron script would call it. */
export async function rpc(
  baseUrl: string,
  method: string,
  params?: Record<string, unknown>,
  options: RpcOptions = {},
): Promise<RpcResponse> {
  const response = await fetch(new URL(options.path ?? '/rpc', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: options.id ?? 1, method, ...(params ? { params } : {}) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

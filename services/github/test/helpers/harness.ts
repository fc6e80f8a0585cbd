import { Writable } from 'node:stream';

import { type ClientTransportKind, connectClient, type StartedService, startService } from '@mcp-sse/testing';

import { service } from '../../src/service.js';
import { type RecordedRequest, type StandIn, type StandInOptions, startGitHubStandIn } from './github-stand-in.js';

/** The token the stand-in accepts; tests search every log line, answer and header of the service for it. */
export const TOKEN = 'ghp_StandInT0ken4Tests0123456789abcdefXYZ';

export interface Harness {
  standIn: StandIn;
  svc: StartedService;
  /** Every log line the service wrote (level trace), as written. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * Starts the stand-in and the service pointed at it (at `apiPath` below its root: `/api/v3` as on
 * GitHub Enterprise Server), logging everything into `logs`.
 */
export async function startHarness(
  env: Record<string, string> = {},
  standInOptions: Partial<StandInOptions> = {},
  apiPath = '',
): Promise<Harness> {
  const standIn = await startGitHubStandIn({ token: TOKEN, ...standInOptions });
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.length > 0),
      );
      done();
    },
  });
  const svc = await startService(service, {
    env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `${standIn.url}${apiPath}`, MCP_TOOLSETS: 'all', ...env },
    logLevel: 'trace',
    logDestination: destination,
  });
  return {
    standIn,
    svc,
    logs,
    close: async () => {
      await svc.close();
      await standIn.close();
    },
  };
}

export { callTool as call, callToolOk as ok, callToolRefused as refused } from '@mcp-sse/testing';

/** What one call sent to GitHub: the requests the stand-in recorded while `run` ran. */
export async function sent(standIn: StandIn, run: () => Promise<unknown>): Promise<RecordedRequest[]> {
  const before = standIn.requests.length;
  await run();
  return standIn.requests.slice(before);
}

/** A request as a short comparable line: `GET /repos/octo-org/hello?page=2&per_page=3`. */
export function line(request: RecordedRequest): string {
  return `${request.method} ${request.rawPath}${request.rawQuery === '' ? '' : `?${request.rawQuery}`}`;
}

export { type ClientTransportKind, connectClient, type RecordedRequest, type StandIn };

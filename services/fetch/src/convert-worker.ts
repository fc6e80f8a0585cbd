/**
 * The conversion worker: a thread of its own with a capped heap, so that converting a hostile page
 * can neither block the service's event loop nor take the process down (the pool terminates a
 * worker over its time budget; one over its heap dies alone). Messages: a ConvertRequest with an
 * id in, `{id, page}` or `{id, error: {kind, message}}` out.
 */
import { parentPort } from 'node:worker_threads';

import { FetchError } from '@mcp-sse/net-guard/errors';

import { convertPage, type ConvertRequest } from './convert.js';

const port = parentPort;
if (port === null) throw new Error('convert-worker.ts runs as a worker thread');

port.on('message', (message: ConvertRequest & { id: number }) => {
  const { id, ...request } = message;
  try {
    port.postMessage({ id, page: convertPage(request) });
  } catch (error) {
    const failure =
      error instanceof FetchError
        ? { kind: error.kind, message: error.message }
        : error instanceof RangeError
          ? {
              kind: 'UNSUPPORTED_CONTENT',
              message: `the page could not be converted (${error.message}); try format "raw"`,
            }
          : { kind: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
    port.postMessage({ id, error: failure });
  }
});

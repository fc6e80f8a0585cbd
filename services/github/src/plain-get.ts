import type { IncomingHttpHeaders } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

import { answerTooLarge } from './github-error.js';

export interface PlainAnswer {
  status: number;
  headers: Record<string, string | undefined>;
  data: unknown;
}

function flatHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );
}

/** An error of the shape translateRequestError reads from Octokit's RequestError. */
function httpError(message: string, status: number, response?: { headers: PlainAnswer['headers']; data: unknown }) {
  return Object.assign(new Error(message), { name: 'HttpError', status, ...(response && { response }) });
}

/** A GitHub answer that is not a success, as the error Octokit would have thrown for it. */
export function requestFailure(answer: PlainAnswer): Error {
  return httpError(`HTTP ${answer.status}`, answer.status, { headers: answer.headers, data: answer.data });
}

/**
 * One GET with node's own HTTP client, its body read up to `maxBytes` and parsed as JSON when it is;
 * any status is an answer (requestFailure turns a failed one into Octokit's error).
 * For /health's GET /rate_limit only: node's fetch costs about 20 MB resident the first time it is
 * used, and Octokit's REST client more, and a health check needs neither (README "Start-up").
 * Failures have the shape of Octokit's RequestError (name HttpError, a status, the response when
 * GitHub answered), so translateRequestError words them as it words the tools' failures.
 */
export function plainGetJson(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  maxBytes: number,
): Promise<PlainAnswer> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PlainAnswer>((resolve, reject) => {
    const request = send(url, { method: 'GET', headers, signal }, (response) => {
      const chunks: Buffer[] = [];
      let total = 0;
      response.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) {
          response.destroy();
          reject(answerTooLarge(maxBytes));
          return;
        }
        chunks.push(chunk);
      });
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let data: unknown = text;
        try {
          data = JSON.parse(text);
        } catch {
          // not JSON: GitHub's text, as Octokit keeps it
        }
        resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response.headers), data });
      });
    });
    request.on('error', (error) => {
      // An abort stays an abort; anything else got no answer, which Octokit reports as status 500.
      reject(error.name === 'AbortError' ? error : httpError(error.message, 500));
    });
    request.end();
  });
}

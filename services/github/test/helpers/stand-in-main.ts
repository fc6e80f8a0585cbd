/**
 * The GitHub stand-in as a process of its own, for the container end-to-end check: the service on
 * the compose network talks to it as it would to api.github.com (GITHUB_API_URL=http://<host>:<port>).
 *
 *   node --import tsx services/github/test/helpers/stand-in-main.ts        (from the repository root)
 *
 * Environment: STAND_IN_TOKEN (required: the token the service must send), STAND_IN_PORT (9000),
 * STAND_IN_LOG_PORT (9001, the job-log origin), STAND_IN_HOST (0.0.0.0), STAND_IN_PUBLIC_HOST (the
 * name the service reaches it by, written into Link and Location URLs; default: the listen address).
 * GET /__stand-in/requests lists what it received. It prints one JSON line once it listens.
 */
import { startGitHubStandIn } from './github-stand-in.js';

const token = process.env['STAND_IN_TOKEN'];
if (token === undefined || token === '') {
  process.stderr.write('STAND_IN_TOKEN: set the token the service will send\n');
  process.exit(2);
}

const standIn = await startGitHubStandIn({
  token,
  host: process.env['STAND_IN_HOST'] ?? '0.0.0.0',
  port: Number(process.env['STAND_IN_PORT'] ?? 9000),
  logPort: Number(process.env['STAND_IN_LOG_PORT'] ?? 9001),
  ...(process.env['STAND_IN_PUBLIC_HOST'] !== undefined && { publicHost: process.env['STAND_IN_PUBLIC_HOST'] }),
  control: true,
});
process.stdout.write(
  `${JSON.stringify({ msg: 'github stand-in listening', url: standIn.url, logUrl: standIn.logUrl })}\n`,
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void standIn.close().then(() => process.exit(0)));
}

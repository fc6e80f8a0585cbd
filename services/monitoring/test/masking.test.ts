import { describe, expect, it } from 'vitest';

import { isSecretKey, maskArgv, maskEnv, maskLabels, maskText } from '../src/masking.js';

/** Secret values planted below: none may survive masking, whatever carries it. */
const SECRETS = {
  POSTGRES_PASSWORD: 'pg-Secret-1',
  MYSQL_ROOT_PASSWORD: 'my-Secret-2',
  PGPASSWORD: 'pg-Secret-3',
  db_password: 'lower-Secret-4',
  DbPassword: 'camel-Secret-5',
  API_KEY: 'api-Secret-6',
  apiKey: 'api-Secret-7',
  'x-api-key': 'api-Secret-8',
  GITHUB_TOKEN: 'tok-Secret-9',
  AWS_SECRET_ACCESS_KEY: 'aws-Secret-10',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  SESSION_SECRET: 'sess-Secret-11',
  JWT_SIGNING_KEY: 'jwt-Secret-12',
  PRIVATE_KEY: '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
  OAUTH_CLIENT_SECRET: 'oauth-Secret-13',
  SMTP_PASS: 'smtp-Secret-14',
  REDIS_PWD: 'redis-Secret-15',
  AUTH: 'auth-Secret-16',
  SENTRY_DSN: 'https://abc123@o1.ingest.sentry.io/1',
  CREDENTIALS: 'cred-Secret-17',
  MCP_API_KEYS: 'key-Secret-18,key-Secret-19',
  PASSPHRASE: 'phrase-Secret-20',
} as const;

/** Values that carry a secret inside them, under keys that are not secret. */
const EMBEDDED: [string, string, string][] = [
  [
    'DATABASE_URL',
    'postgres://app:url-Secret-21@db:5432/app?sslmode=require',
    'postgres://app:***@db:5432/app?sslmode=require',
  ],
  ['REDIS_URL', 'redis://:url-Secret-22@cache:6379/0', 'redis://:***@cache:6379/0'],
  [
    'MONGO_URI',
    'mongodb+srv://u%40x:url-Secret-23@cluster0.example.net/db',
    'mongodb+srv://u%40x:***@cluster0.example.net/db',
  ],
  ['AMQP', 'amqp://guest:url-Secret-24@rabbit//', 'amqp://guest:***@rabbit//'],
  [
    'JDBC',
    'jdbc:postgresql://db/app?user=app&password=jdbc-Secret-25',
    'jdbc:postgresql://db/app?user=app&password=***',
  ],
  [
    'MSSQL',
    'Server=db;Database=app;User Id=sa;Password=ado-Secret-26;',
    'Server=db;Database=app;User Id=sa;Password=***;',
  ],
  ['LIBPQ', 'host=db user=app password=pq-Secret-27 dbname=app', 'host=db user=app password=*** dbname=app'],
  ['HEADER', 'Authorization: Bearer bearer-Secret-28', 'Authorization: *** ***'],
  ['UPSTREAM', 'token=qs-Secret-29&mode=x', 'token=***&mode=x'],
  ['GH', 'use ghp_abcdefghijklmnopqrstuvwxyz0123456789 here', 'use *** here'],
  ['OPENAI', 'sk-proj-abcdefghijklmnop1234', '***'],
  ['SLACK', 'xoxb-123456789012-abcdefghij', '***'],
  ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c', '***'],
];

const KEPT = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin',
  'NODE_ENV=production',
  'PORT=8080',
  'HOME=/root',
  'KEYBOARD_LAYOUT=us',
  'MONKEY=banana',
  'AUTHOR=Ann',
  'PASSENGER_COUNT=3',
  'TOKENIZER=whitespace',
  'SECRETARY=Bob',
  'DATABASE_URL=postgres://db:5432/app',
  'LOG_LEVEL=info',
  'EMPTY_PASSWORD=',
];

function allText(value: unknown): string {
  return JSON.stringify(value);
}

describe('masking', () => {
  it('masks the value of every secret-named variable, in any case and spelling, and keeps its name', () => {
    const env = Object.entries(SECRETS).map(([key, value]) => `${key}=${value}`);
    const masked = maskEnv(env);
    expect(masked).toEqual(Object.keys(SECRETS).map((key) => `${key}=***`));
  });

  it('masks only the secret part of connection strings, URLs, headers and known token formats', () => {
    for (const [key, value, expected] of EMBEDDED) {
      expect(maskEnv([`${key}=${value}`]), key).toEqual([`${key}=${expected}`]);
    }
  });

  it('keeps ordinary variables whole, including names that merely contain KEY, AUTH or PASS as part of a word', () => {
    expect(maskEnv(KEPT)).toEqual(KEPT);
    for (const key of ['KEYBOARD_LAYOUT', 'MONKEY', 'AUTHOR', 'PASSENGER_COUNT', 'TOKENIZER', 'SECRETARY', 'PATH']) {
      expect(isSecretKey(key), key).toBe(false);
    }
  });

  it('masks labels the same way', () => {
    const labels = {
      'com.example.db-password': 'label-Secret-30',
      'traefik.http.middlewares.auth.basicauth.users': 'admin:$apr1$label-Secret-31',
      'com.docker.compose.project': 'shop',
      'org.opencontainers.image.source': 'https://github.com/example/shop',
      'backup.target': 's3://AKIAIOSFODNN7EXAMPLE:label-Secret-32@bucket/path',
    };
    const masked = maskLabels(labels);
    expect(masked).toEqual({
      'com.example.db-password': '***',
      'traefik.http.middlewares.auth.basicauth.users': '***',
      'com.docker.compose.project': 'shop',
      'org.opencontainers.image.source': 'https://github.com/example/shop',
      'backup.target': 's3://***:***@bucket/path',
    });
  });

  it('masks flags with secret values in argument vectors, joined or as the next argument, and inside shell strings', () => {
    const argv = [
      'server',
      '--password=argv-Secret-40',
      '--db-password',
      'argv-Secret-41',
      '--api-key=argv-Secret-42',
      '--token',
      'argv-Secret-43',
      '--listen=0.0.0.0:8080',
      '--verbose',
      '--database-url=postgres://u:argv-Secret-44@db/app',
      'AWS_SECRET_ACCESS_KEY=argv-Secret-45',
      'sh -c "mysql --password=argv-Secret-46 -h db && curl -H \'Authorization: Bearer argv-Secret-47\' http://x"',
    ];
    const masked = maskArgv(argv);
    expect(masked).toEqual([
      'server',
      '--password=***',
      '--db-password',
      '***',
      '--api-key=***',
      '--token',
      '***',
      '--listen=0.0.0.0:8080',
      '--verbose',
      '--database-url=postgres://u:***@db/app',
      'AWS_SECRET_ACCESS_KEY=***',
      'sh -c "mysql --password=*** -h db && curl -H \'Authorization: *** ***\' http://x"',
    ]);
    expect(allText(masked)).not.toMatch(/Secret/);
  });

  it('leaves no planted secret in any carrier', () => {
    const carriers = [
      maskEnv(Object.entries(SECRETS).map(([k, v]) => `${k}=${v}`)),
      maskEnv(EMBEDDED.map(([k, v]) => `${k}=${v}`)),
      maskArgv(Object.entries(SECRETS).map(([k, v]) => `--${k.toLowerCase()}=${v}`)),
      maskLabels(Object.fromEntries(Object.entries(SECRETS).map(([k, v]) => [`com.example.${k.toLowerCase()}`, v]))),
      EMBEDDED.map(([, v]) => maskText(v)),
    ];
    const text = allText(carriers);
    for (const value of [...Object.values(SECRETS), ...EMBEDDED.map(([, v]) => v)]) {
      for (const part of value.match(/[A-Za-z]+-Secret-\d+|AKIA[A-Z0-9]{16}|MIIEpAIBAAKCAQEA/g) ?? []) {
        expect(text, part).not.toContain(part);
      }
    }
  });
});

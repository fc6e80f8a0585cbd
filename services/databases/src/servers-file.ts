import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { DatabasesError } from './errors.js';

/** The engines the service speaks; `mariadb` is read as `mysql` (same driver, same protocol). */
export const ENGINES = ['postgres', 'mysql', 'mssql'] as const;
export type Engine = (typeof ENGINES)[number];

export const DEFAULT_PORTS: Record<Engine, number> = { postgres: 5432, mysql: 3306, mssql: 1433 };

/** Databases no model needs and no sync reads, unless named exactly in `include`. */
export const SYSTEM_DATABASES: Record<Engine, readonly string[]> = {
  postgres: ['template0', 'template1'],
  mysql: ['information_schema', 'mysql', 'performance_schema', 'sys'],
  mssql: ['master', 'tempdb', 'model', 'msdb'],
};

const glob = z
  .string()
  .min(1)
  .max(128)
  .refine((value) => ![...value].some((ch) => ch.charCodeAt(0) < 32), 'no control characters');

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const serverEntrySchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9_-]{0,62}$/,
        'lower-case letters, digits, "-" and "_", at most 63, starting with a letter or digit',
      ),
    engine: z
      .enum(['postgres', 'postgresql', 'mysql', 'mariadb', 'mssql', 'sqlserver'])
      .transform((engine): Engine =>
        engine === 'postgresql'
          ? 'postgres'
          : engine === 'mariadb'
            ? 'mysql'
            : engine === 'sqlserver'
              ? 'mssql'
              : engine,
      ),
    host: z.string().min(1).max(255),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).max(128),
    /** The name of the password in the secrets file; omitted for a login without a password. */
    password_secret: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a KEY of the secrets file')
      .optional(),
    access: z.enum(['read_only', 'read_write']).default('read_only'),
    databases: z
      .object({
        include: z.array(glob).min(1).default(['*']),
        exclude: z.array(glob).default([]),
      })
      .strict()
      .default({ include: ['*'], exclude: [] }),
    tags: z
      .array(z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : -'))
      .max(32)
      .default([]),
    description: z.string().max(500).default(''),
    /** off: plain TCP; on: TLS without checking the certificate; verify: TLS with a checked certificate. */
    tls: z.enum(['off', 'on', 'verify']).default('off'),
    connect_timeout_ms: ms(100, 120_000).default(5000),
    statement_timeout_ms: ms(100, 3_600_000).default(30_000),
    pool_max: z.number().int().min(1).max(100).default(5),
    /** Where the server's list of databases is read: postgres (PostgreSQL), master (SQL Server), none (MySQL). */
    default_database: z.string().min(1).max(128).optional(),
  })
  .strict();

export interface ServerConfig extends Omit<z.infer<typeof serverEntrySchema>, 'port'> {
  port: number;
  /** The password from the secrets file, or '' (never logged, never shown). */
  password: string;
}

const fileSchema = z
  .object({
    servers: z.array(z.unknown()).max(500),
  })
  .strict();

/** `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : `\\${ch}`));
  return new RegExp(`^${body}$`, 's');
}

/** Whether a database of `server` is synced and reachable through the tools. */
export function databaseIncluded(server: Pick<ServerConfig, 'engine' | 'databases'>, database: string): boolean {
  const { include, exclude } = server.databases;
  if (SYSTEM_DATABASES[server.engine].includes(database) && !include.includes(database)) return false;
  if (!include.some((pattern) => globToRegExp(pattern).test(database))) return false;
  return !exclude.some((pattern) => globToRegExp(pattern).test(database));
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return `${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`;
}

/**
 * Parses the servers file: YAML `servers:` list, every entry checked (errors name the entry and the
 * field, never a secret), names unique, passwords resolved from the secrets file by reference.
 */
export function parseServersFile(text: string, origin: string, secrets: ReadonlyMap<string, string>): ServerConfig[] {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new DatabasesError('INVALID_INPUT', `${origin}: not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const file = fileSchema.safeParse(parsed ?? {});
  if (!file.success) throw new DatabasesError('INVALID_INPUT', `${origin}: ${issueText(file.error)}`);
  const servers: ServerConfig[] = [];
  const seen = new Set<string>();
  for (const [index, raw] of file.data.servers.entries()) {
    const label =
      raw !== null && typeof raw === 'object' && typeof (raw as { name?: unknown }).name === 'string'
        ? `servers[${index}] (${(raw as { name: string }).name})`
        : `servers[${index}]`;
    const entry = serverEntrySchema.safeParse(raw);
    if (!entry.success) throw new DatabasesError('INVALID_INPUT', `${origin}: ${label}: ${issueText(entry.error)}`);
    const value = entry.data;
    if (seen.has(value.name)) {
      throw new DatabasesError('INVALID_INPUT', `${origin}: ${label}: the name "${value.name}" is used twice`);
    }
    seen.add(value.name);
    let password = '';
    if (value.password_secret !== undefined) {
      const secret = secrets.get(value.password_secret);
      if (secret === undefined) {
        throw new DatabasesError(
          'INVALID_INPUT',
          `${origin}: ${label}: password_secret ${value.password_secret} is not in the secrets file`,
        );
      }
      password = secret;
    }
    servers.push({ ...value, port: value.port ?? DEFAULT_PORTS[value.engine], password });
  }
  return servers;
}

export function readServersFile(path: string, secrets: ReadonlyMap<string, string>): ServerConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new DatabasesError('INVALID_INPUT', `DATABASES_SERVERS_FILE: cannot read ${path}: ${code}`);
  }
  return parseServersFile(text, `DATABASES_SERVERS_FILE ${path}`, secrets);
}

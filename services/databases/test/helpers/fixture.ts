import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import mysql from 'mysql2/promise';
import pg from 'pg';

/**
 * Throwaway databases on this machine's shared PostgreSQL (127.0.0.1:5432, trust) and MariaDB
 * (127.0.0.1:3306, root without password), with random names, dropped afterwards; the shared
 * servers are never reconfigured. A server that does not answer fails the test file at once with
 * a message saying which, instead of hanging.
 */

export const PG_URL = process.env['DATABASES_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_URL = process.env['DATABASES_TEST_MYSQL_URL'] ?? 'mysql://root@127.0.0.1:3306/test';
export const REDIS_URL = process.env['DATABASES_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';

export const randomName = (prefix: string) => `${prefix}_${randomBytes(4).toString('hex')}`;

async function probe(what: string, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`${what} at ${host}:${port} did not answer within 2 s: these tests need it running`));
    });
    socket.once('error', (error) =>
      reject(
        new Error(
          `${what} at ${host}:${port} is not reachable (${(error as NodeJS.ErrnoException).code}): these tests need it running`,
        ),
      ),
    );
  });
}

export async function requireServers(): Promise<void> {
  const pgUrl = new URL(PG_URL);
  const myUrl = new URL(MYSQL_URL);
  const redisUrl = new URL(REDIS_URL);
  await probe('PostgreSQL', pgUrl.hostname, Number(pgUrl.port || 5432));
  await probe('MariaDB/MySQL', myUrl.hostname, Number(myUrl.port || 3306));
  await probe('Redis', redisUrl.hostname, Number(redisUrl.port || 6379));
}

export function pgUrlFor(database: string, user = 'postgres'): string {
  const url = new URL(PG_URL);
  url.pathname = `/${database}`;
  url.username = user;
  return url.toString();
}

/** Runs statements as the PostgreSQL superuser in `database`. */
export async function pgAdmin<R extends pg.QueryResultRow = Record<string, unknown>>(
  database: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: pgUrlFor(database), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

let mysqlPool: mysql.Pool | undefined;

function mysqlAdminPool(): mysql.Pool {
  const url = new URL(MYSQL_URL);
  mysqlPool ??= mysql.createPool({
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    connectionLimit: 4,
    connectTimeout: 5000,
    multipleStatements: false,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  return mysqlPool;
}

/** Runs one statement as MariaDB's root. */
export async function mysqlAdmin<R = Record<string, unknown>>(sql: string, values: unknown[] = []): Promise<R[]> {
  const [rows] = await mysqlAdminPool().query(sql, values);
  return rows as R[];
}

export async function closeAdmin(): Promise<void> {
  await mysqlPool?.end();
  mysqlPool = undefined;
}

/**
 * A TCP proxy the test controls, in front of a real server: `cut()` drops every connection and
 * refuses new ones (a server made unreachable); `stall()` accepts and never answers (a server that
 * hangs); `restore()` forwards again.
 */
export class TcpProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private mode: 'forward' | 'cut' | 'stall' = 'forward';
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {
    this.server = net.createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => undefined);
      if (this.mode === 'cut') {
        client.destroy();
        return;
      }
      if (this.mode === 'stall') return;
      const upstream = net.connect({ host: this.targetHost, port: this.targetPort });
      this.sockets.add(upstream);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  cut(): void {
    this.mode = 'cut';
    for (const socket of this.sockets) socket.destroy();
  }

  stall(): void {
    this.mode = 'stall';
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.mode = 'forward';
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Fixture {
  prefix: string;
  registryDb: string;
  pg: { sales: string; hr: string; scratch: string; role: string };
  my: { shop: string; logs: string; rw: string; user: string; password: string };
  pgProxy: TcpProxy;
  myProxy: TcpProxy;
  dir: string;
  serversFile: string;
  secretsFile: string;
  key: string;
  cachePrefix: string;
  env: Record<string, string>;
  writeServers(text: string): void;
  writeSecrets(entries: Record<string, string>): void;
  close(): Promise<void>;
}

export const newKey = () => randomBytes(32).toString('base64');

/**
 * Two servers per engine: pg-main (a least-privilege role, read-only, two databases by include
 * and exclude rules), pg-rw (through a proxy, read-write, the scratch database), maria-main (a
 * least-privilege user with a password, read-only) and maria-rw (root through a proxy,
 * read-write). The registry is a throwaway database of its own.
 */
export async function createFixture(): Promise<Fixture> {
  await requireServers();
  const prefix = randomName('mcpdb');
  const registryDb = randomName('mcpreg');
  const role = randomName('mcp_ro');
  const myUser = randomName('mcp_ro');
  const myPassword = `pw-${randomBytes(8).toString('hex')}`;
  const pgDbs = { sales: `${prefix}_sales`, hr: `${prefix}_hr`, scratch: `${prefix}_scratch` };
  const myDbs = { shop: `${prefix}_shop`, logs: `${prefix}_logs`, rw: `${prefix}_rw` };

  await pgAdmin('test', `CREATE DATABASE ${registryDb}`);
  for (const db of Object.values(pgDbs)) await pgAdmin('test', `CREATE DATABASE ${db}`);
  await pgAdmin('test', `CREATE ROLE ${role} LOGIN PASSWORD 'unused-with-trust'`);
  await pgAdmin('test', `ALTER ROLE ${role} SET default_transaction_read_only = on`);
  for (const db of [pgDbs.sales, pgDbs.hr]) {
    await pgAdmin(db, `GRANT USAGE ON SCHEMA public TO ${role}`);
    await pgAdmin(db, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${role}`);
  }
  await pgAdmin(pgDbs.sales, `CREATE SCHEMA crm`);
  await pgAdmin(pgDbs.sales, `GRANT USAGE ON SCHEMA crm TO ${role}`);
  await pgAdmin(pgDbs.sales, `ALTER DEFAULT PRIVILEGES IN SCHEMA crm GRANT SELECT ON TABLES TO ${role}`);
  await pgAdmin(
    pgDbs.sales,
    `CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, created date DEFAULT '2024-01-01');
     CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES public.customers (id), total numeric(10, 2), note text);
     CREATE INDEX orders_customer ON public.orders (customer_id);
     CREATE SEQUENCE public.order_ids;
     CREATE TABLE crm.contacts (id int PRIMARY KEY, customer_id int, phone text);
     CREATE VIEW public.big_orders AS SELECT * FROM public.orders WHERE total > 100;
     INSERT INTO public.customers VALUES (1, 'Ada', 'ada@example.com', '2024-01-02'), (2, 'Grace', 'grace@example.com', '2024-02-03'), (3, 'Linus', NULL, '2024-03-04');
     INSERT INTO public.orders VALUES (1, 1, 150.00, 'first'), (2, 1, 20.50, NULL), (3, 2, 99.99, 'x');
     INSERT INTO crm.contacts VALUES (1, 1, '+1-555');
     ANALYZE`,
  );
  await pgAdmin(
    pgDbs.hr,
    `CREATE TABLE public.employees (id int PRIMARY KEY, name text, salary int); INSERT INTO public.employees VALUES (1, 'Eve', 100)`,
  );
  await pgAdmin(pgDbs.scratch, `CREATE TABLE public.notes (id serial PRIMARY KEY, body text)`);

  await mysqlAdmin(`CREATE DATABASE \`${myDbs.shop}\``);
  await mysqlAdmin(`CREATE DATABASE \`${myDbs.logs}\``);
  await mysqlAdmin(`CREATE DATABASE \`${myDbs.rw}\``);
  await mysqlAdmin(
    `CREATE TABLE \`${myDbs.shop}\`.products (id int PRIMARY KEY, name varchar(100) NOT NULL, price decimal(10,2), created datetime, INDEX by_name (name)) COMMENT 'what we sell'`,
  );
  await mysqlAdmin(
    `CREATE TABLE \`${myDbs.shop}\`.reviews (id int PRIMARY KEY, product_id int NOT NULL, stars tinyint, body text, CONSTRAINT reviews_product FOREIGN KEY (product_id) REFERENCES \`${myDbs.shop}\`.products (id)) ENGINE=InnoDB`,
  );
  await mysqlAdmin(
    `INSERT INTO \`${myDbs.shop}\`.products VALUES (1, 'kettle', 25.00, '2024-01-02 03:04:05'), (2, 'teapot', 40.00, NULL), (3, 'cup', 5.50, NULL)`,
  );
  await mysqlAdmin(`INSERT INTO \`${myDbs.shop}\`.reviews VALUES (1, 1, 5, 'great'), (2, 2, 3, 'ok')`);
  await mysqlAdmin(`CREATE TABLE \`${myDbs.logs}\`.events (id bigint PRIMARY KEY, at datetime, message text)`);
  await mysqlAdmin(`INSERT INTO \`${myDbs.logs}\`.events VALUES (9007199254740993, '2024-05-06 07:08:09', 'boot')`);
  await mysqlAdmin(`CREATE TABLE \`${myDbs.rw}\`.notes (id int AUTO_INCREMENT PRIMARY KEY, body text)`);
  await mysqlAdmin(`CREATE USER '${myUser}'@'%' IDENTIFIED BY '${myPassword}'`);
  await mysqlAdmin(`CREATE USER '${myUser}'@'localhost' IDENTIFIED BY '${myPassword}'`);
  for (const host of ['%', 'localhost']) {
    await mysqlAdmin(`GRANT SELECT, SHOW VIEW ON \`${prefix}\\_shop\`.* TO '${myUser}'@'${host}'`);
    await mysqlAdmin(`GRANT SELECT, SHOW VIEW ON \`${prefix}\\_logs\`.* TO '${myUser}'@'${host}'`);
  }

  const pgUrl = new URL(PG_URL);
  const myUrl = new URL(MYSQL_URL);
  const pgProxy = await new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432)).start();
  const myProxy = await new TcpProxy(myUrl.hostname, Number(myUrl.port || 3306)).start();

  const dir = mkdtempSync(join(tmpdir(), 'mcp-databases-'));
  const serversFile = join(dir, 'servers.yml');
  const secretsFile = join(dir, 'secrets.env');
  const key = newKey();
  const cachePrefix = randomName('mcpdb-test');
  const fixture: Fixture = {
    prefix,
    registryDb,
    pg: { ...pgDbs, role },
    my: { ...myDbs, user: myUser, password: myPassword },
    pgProxy,
    myProxy,
    dir,
    serversFile,
    secretsFile,
    key,
    cachePrefix,
    env: {
      DATABASES_SERVERS_FILE: serversFile,
      DATABASES_SECRETS_FILE: secretsFile,
      DATABASES_REGISTRY_URL: pgUrlFor(registryDb),
      DATABASES_REDIS_URL: REDIS_URL,
      DATABASES_CACHE_PREFIX: cachePrefix,
      DATABASES_SYNC_ON_START: 'false',
      DATABASES_SYNC_INTERVAL: '0',
      DATABASES_ALLOW_WRITE: 'true',
      MCP_TOOLSETS: 'all',
      MCP_RATE_LIMIT: '0',
    },
    writeServers: (text) => writeFileSync(serversFile, text),
    writeSecrets: (entries) =>
      writeFileSync(
        secretsFile,
        Object.entries(entries)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n') + '\n',
        { mode: 0o600 },
      ),
    close: async () => {
      await pgProxy.close();
      await myProxy.close();
      rmSync(dir, { recursive: true, force: true });
      // Other sessions may still hold connections for a moment: terminate ours, then drop.
      for (const db of [registryDb, ...Object.values(pgDbs)]) {
        await pgAdmin(
          'test',
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [db],
        );
        await pgAdmin('test', `DROP DATABASE IF EXISTS ${db}`);
      }
      await pgAdmin('test', `DROP ROLE IF EXISTS ${role}`);
      for (const db of Object.values(myDbs)) await mysqlAdmin(`DROP DATABASE IF EXISTS \`${db}\``);
      await mysqlAdmin(`DROP USER IF EXISTS '${myUser}'@'%'`);
      await mysqlAdmin(`DROP USER IF EXISTS '${myUser}'@'localhost'`);
      await closeAdmin();
    },
  };
  fixture.writeSecrets({
    DATABASES_ENCRYPTION_KEY: key,
    PG_MAIN_PASSWORD: 'unused-with-trust',
    MARIA_MAIN_PASSWORD: myPassword,
  });
  fixture.writeServers(defaultServers(fixture));
  return fixture;
}

export function defaultServers(f: Pick<Fixture, 'prefix' | 'pg' | 'my' | 'pgProxy' | 'myProxy'>): string {
  const pgUrl = new URL(PG_URL);
  const myUrl = new URL(MYSQL_URL);
  return `servers:
  - name: pg-main
    engine: postgres
    host: ${pgUrl.hostname}
    port: ${pgUrl.port || 5432}
    user: ${f.pg.role}
    password_secret: PG_MAIN_PASSWORD
    access: read_only
    databases:
      include: ['${f.prefix}_*']
      exclude: ['${f.prefix}_scratch']
    tags: [postgres, main]
    description: sales and hr
    statement_timeout_ms: 3000
    connect_timeout_ms: 2000
  - name: pg-rw
    engine: postgresql
    host: 127.0.0.1
    port: ${f.pgProxy.port}
    user: postgres
    access: read_write
    databases:
      include: ['${f.prefix}_scratch']
    tags: [postgres, scratch]
    connect_timeout_ms: 1000
    statement_timeout_ms: 3000
  - name: maria-main
    engine: mariadb
    host: ${myUrl.hostname}
    port: ${myUrl.port || 3306}
    user: ${f.my.user}
    password_secret: MARIA_MAIN_PASSWORD
    databases:
      include: ['${f.prefix}_*']
      exclude: ['${f.prefix}_rw']
    tags: [mysql, main]
    statement_timeout_ms: 3000
    connect_timeout_ms: 2000
  - name: maria-rw
    engine: mysql
    host: 127.0.0.1
    port: ${f.myProxy.port}
    user: ${decodeURIComponent(myUrl.username)}
    access: read_write
    databases:
      include: ['${f.prefix}_rw']
    tags: [mysql, scratch]
    connect_timeout_ms: 1000
    statement_timeout_ms: 3000
`;
}

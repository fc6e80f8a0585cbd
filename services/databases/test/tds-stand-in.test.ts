/**
 * The SQL Server driver path against a TDS stand-in: a TCP server in this test that speaks just
 * enough TDS 7.4 for tedious (prelogin, login7, SQL batch and RPC requests, attention). It proves
 * what the driver SENDS: the login (user, database, application, password), the batch text inside
 * the rollback wrapper, the parameters, the reset after each call, and the attention that cancels a
 * batch on timeout or on abort. It proves nothing about how a real SQL Server answers.
 */
import net from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { MssqlDriver } from '../src/engines/mssql.js';
import { DatabasesError } from '../src/errors.js';
import { serverEntrySchema } from '../src/servers-file.js';

const TYPE = { SQL_BATCH: 0x01, PRELOGIN: 0x12, LOGIN7: 0x10, RPC: 0x03, ATTENTION: 0x06, REPLY: 0x04 } as const;
const STATUS_EOM = 0x01;
const STATUS_RESET_CONNECTION = 0x08;

interface Message {
  type: number;
  /** The packet header's status of the first packet (RESETCONNECTION lives there). */
  status: number;
  payload: Buffer;
  /** The payload as UTF-16LE, where T-SQL text travels. */
  text: string;
}

interface Login {
  user: string;
  password: string;
  app: string;
  database: string;
}

function packet(type: number, payload: Buffer, status = STATUS_EOM): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt8(type, 0);
  header.writeUInt8(status, 1);
  header.writeUInt16BE(payload.length + 8, 2);
  header.writeUInt16BE(0, 4);
  header.writeUInt8(1, 6);
  return Buffer.concat([header, payload]);
}

const ucs2 = (text: string) => Buffer.from(text, 'utf16le');
const bVarChar = (text: string) => Buffer.concat([Buffer.from([text.length]), ucs2(text)]);

function done(status = 0, rows = 0): Buffer {
  const token = Buffer.alloc(13);
  token.writeUInt8(0xfd, 0);
  token.writeUInt16LE(status | (rows > 0 ? 0x10 : 0), 1);
  token.writeUInt16LE(0xc1, 3);
  token.writeBigUInt64LE(BigInt(rows), 5);
  return token;
}

function loginAck(): Buffer {
  const body = Buffer.concat([
    Buffer.from([1]),
    Buffer.from([0x74, 0x00, 0x00, 0x04]),
    bVarChar('TDS stand-in'),
    Buffer.from([16, 0, 0, 1]),
  ]);
  const head = Buffer.alloc(3);
  head.writeUInt8(0xad, 0);
  head.writeUInt16LE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** One INT column and its rows: COLMETADATA, ROW tokens. */
function intRows(column: string, values: number[]): Buffer {
  const meta = Buffer.concat([
    Buffer.from([0x81, 1, 0]),
    Buffer.from([0, 0, 0, 0]), // user type
    Buffer.from([0x09, 0x00]), // flags: nullable
    Buffer.from([0x26, 4]), // INTN(4)
    bVarChar(column),
  ]);
  const rows = values.map((value) => {
    const row = Buffer.alloc(6);
    row.writeUInt8(0xd1, 0);
    row.writeUInt8(4, 1);
    row.writeInt32LE(value, 2);
    return row;
  });
  return Buffer.concat([meta, ...rows]);
}

function preloginReply(): Buffer {
  // VERSION (6 bytes), ENCRYPTION = NOT_SUP (1 byte), terminator.
  const options = Buffer.from([0x00, 0, 11, 0, 6, 0x01, 0, 17, 0, 1, 0xff]);
  const data = Buffer.from([16, 0, 0x0f, 0xa0, 0, 0, 0x02]);
  return Buffer.concat([options, data]);
}

function readLogin(payload: Buffer): Login {
  const field = (offsetAt: number) => {
    const offset = payload.readUInt16LE(offsetAt);
    const length = payload.readUInt16LE(offsetAt + 2);
    return payload.subarray(offset, offset + length * 2);
  };
  // The password travels with each byte's nibbles swapped and XORed with 0xA5.
  const password = Buffer.from(
    [...field(44)].map((byte) => {
      const x = byte ^ 0xa5;
      return ((x & 0x0f) << 4) | (x >> 4);
    }),
  ).toString('utf16le');
  return {
    user: field(40).toString('utf16le'),
    password,
    app: field(48).toString('utf16le'),
    database: field(68).toString('utf16le'),
  };
}

/** The stand-in server: records every message, answers each request class as SQL Server would, minimally. */
class TdsStandIn {
  readonly messages: Message[] = [];
  readonly logins: Login[] = [];
  /** Batches containing this marker get no answer until an attention arrives. */
  stallMarker = 'stall_me';
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor() {
    this.server = net.createServer((socket) => this.serve(socket));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * What the driver sent for the calls: requests after login, without tedious's connection set-up
   * (its initial settings batch, unless it carries RESETCONNECTION: that is the reset after a call)
   * and mssql's pool check (`SELECT 1;`).
   */
  requests(): Message[] {
    return this.messages.filter(
      (m) =>
        (m.type === TYPE.SQL_BATCH || m.type === TYPE.RPC || m.type === TYPE.ATTENTION) &&
        !(m.text.includes('set textsize') && (m.status & STATUS_RESET_CONNECTION) === 0) &&
        !m.text.endsWith('SELECT 1;'),
    );
  }

  private serve(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let parts: Buffer[] = [];
    let firstStatus: number | undefined;
    let stalled = false;
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 8) {
        const length = buffer.readUInt16BE(2);
        if (buffer.length < length) break;
        const type = buffer.readUInt8(0);
        const status = buffer.readUInt8(1);
        parts.push(buffer.subarray(8, length));
        firstStatus ??= status;
        buffer = buffer.subarray(length);
        if ((status & STATUS_EOM) === 0) continue;
        const payload = Buffer.concat(parts);
        const message: Message = { type, status: firstStatus, payload, text: payload.toString('utf16le') };
        parts = [];
        firstStatus = undefined;
        this.messages.push(message);
        if (type === TYPE.PRELOGIN) socket.write(packet(TYPE.REPLY, preloginReply()));
        else if (type === TYPE.LOGIN7) {
          this.logins.push(readLogin(payload));
          socket.write(packet(TYPE.REPLY, Buffer.concat([loginAck(), done()])));
        } else if (type === TYPE.ATTENTION) {
          // The acknowledgement: a DONE with the attention bit, after which the connection is usable again.
          stalled = false;
          socket.write(packet(TYPE.REPLY, done(0x0020)));
        } else if (message.text.includes(this.stallMarker)) {
          stalled = true;
        } else if (!stalled && message.text.includes('AS n')) {
          socket.write(packet(TYPE.REPLY, Buffer.concat([intRows('n', [7, 8]), done(0, 2)])));
        } else if (!stalled) {
          socket.write(packet(TYPE.REPLY, done()));
        }
      }
    });
  }
}

const stand = new TdsStandIn();
const drivers: MssqlDriver[] = [];

function driver(overrides: Record<string, unknown> = {}): MssqlDriver {
  const server = {
    ...serverEntrySchema.parse({
      name: 'erp-sql',
      engine: 'mssql',
      host: '127.0.0.1',
      port: stand.port,
      user: 'mcp_readonly',
      statement_timeout_ms: 400,
      connect_timeout_ms: 2000,
      pool_max: 1,
      ...overrides,
    }),
    port: stand.port,
    password: '',
  };
  const created = new MssqlDriver({
    server,
    password: async () => 'S3cret-from-the-registry',
    applicationName: 'mcp-databases-test',
  });
  drivers.push(created);
  return created;
}

beforeAll(async () => {
  await stand.start();
});

afterEach(async () => {
  for (const created of drivers.splice(0)) await created.close();
  stand.messages.length = 0;
  stand.logins.length = 0;
});

afterAll(async () => {
  await stand.close();
});

describe('the SQL Server driver against a TDS stand-in (what is sent, not how SQL Server answers)', () => {
  it('logs in with the user, the database, the application name and the decrypted password', async () => {
    const result = await driver().execute({
      database: 'ERP',
      sql: 'SELECT 1 AS n',
      params: [],
      maxRows: 10,
      maxBytes: 10_000,
      access: 'read_only',
    });
    expect(stand.logins[0]).toEqual({
      user: 'mcp_readonly',
      password: 'S3cret-from-the-registry',
      app: 'mcp-databases-test',
      database: 'ERP',
    });
    expect(result).toEqual({
      columns: [{ name: 'n', type: 'intn' }],
      rows: [{ n: 7 }, { n: 8 }],
      row_count: 2,
      truncated: false,
      truncated_by: null,
      affected_rows: null,
    });
  });

  it('sends the batch inside the rollback wrapper, then resets the connection', async () => {
    await driver().execute({
      database: 'ERP',
      sql: 'SELECT 1 AS n FROM dbo.orders',
      params: [],
      maxRows: 10,
      maxBytes: 10_000,
      access: 'read_only',
    });
    const [batch, reset] = stand.requests();
    expect(batch?.type).toBe(TYPE.SQL_BATCH);
    expect(batch?.text).toContain(
      'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\nSELECT 1 AS n FROM dbo.orders\n;\nIF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;',
    );
    // sp_reset_connection: the RESETCONNECTION bit on the next request's packet header.
    expect(reset?.type).toBe(TYPE.SQL_BATCH);
    expect((reset?.status ?? 0) & STATUS_RESET_CONNECTION).toBe(STATUS_RESET_CONNECTION);
  });

  it('sends parameters as an sp_executesql RPC with typed @p1, @p2', async () => {
    await driver({ access: 'read_write' }).execute({
      database: 'ERP',
      sql: 'UPDATE dbo.t SET a = @p2 WHERE id = @p1',
      params: [42, 'naïve ☃'],
      maxRows: 10,
      maxBytes: 10_000,
      access: 'read_write',
    });
    const [rpc] = stand.requests();
    expect(rpc?.type).toBe(TYPE.RPC);
    // ProcID 10 = sp_executesql (0xFFFF then the id), after the ALL_HEADERS block.
    const headers = rpc?.payload.readUInt32LE(0) ?? 0;
    expect(rpc?.payload.readUInt16LE(headers)).toBe(0xffff);
    expect(rpc?.payload.readUInt16LE(headers + 2)).toBe(10);
    expect(rpc?.text).toContain(
      'BEGIN TRANSACTION;\nUPDATE dbo.t SET a = @p2 WHERE id = @p1\n;\nIF @@TRANCOUNT > 0 COMMIT TRANSACTION;',
    );
    expect(rpc?.text).toContain('@p1 int, @p2 nvarchar(7)');
    // The values are typed parameters, not text of the statement (an odd offset: search the bytes).
    expect(rpc?.payload.includes(Buffer.from('naïve ☃', 'utf16le'))).toBe(true);
    const int42 = Buffer.from([0x26, 4, 4, 42, 0, 0, 0]);
    expect(rpc?.payload.includes(int42)).toBe(true);
  });

  it('cancels a batch that outlives statement_timeout_ms with an attention, then resets', async () => {
    const error = await driver()
      .execute({
        database: 'ERP',
        sql: 'SELECT 1 AS stall_me',
        params: [],
        maxRows: 10,
        maxBytes: 10_000,
        access: 'read_only',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DatabasesError);
    expect((error as DatabasesError).message).toBe(
      'The batch ran longer than 400 ms on erp-sql and was cancelled (attention sent).',
    );
    const types = stand.requests().map((m) => m.type);
    expect(types.slice(0, 2)).toEqual([TYPE.SQL_BATCH, TYPE.ATTENTION]);
  });

  it("cancels on the call's abort signal with an attention", async () => {
    const controller = new AbortController();
    const pending = driver({ statement_timeout_ms: 30_000 })
      .execute({
        database: 'ERP',
        sql: 'SELECT 1 AS stall_me',
        params: [],
        maxRows: 10,
        maxBytes: 10_000,
        access: 'read_only',
        signal: controller.signal,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const started = Date.now();
    while (!stand.requests().some((m) => m.text.includes('stall_me'))) {
      if (Date.now() - started > 5000) throw new Error('the batch never arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    controller.abort();
    const error = await pending;
    expect((error as DatabasesError).code).toBe('CANCELLED');
    expect(stand.requests().map((m) => m.type)).toContain(TYPE.ATTENTION);
  });

  it('refuses what the guard refuses before anything is sent', async () => {
    const error = await driver()
      .execute({
        database: 'ERP',
        sql: "EXEC xp_cmdshell 'dir'",
        params: [],
        maxRows: 10,
        maxBytes: 10_000,
        access: 'read_only',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as DatabasesError).message).toMatch(/^EXEC is not allowed/);
    expect(stand.messages).toEqual([]);
  });
});

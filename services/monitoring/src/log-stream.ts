/**
 * The engine's log stream, split into lines. Without a TTY the engine multiplexes stdout and stderr
 * into frames (an 8-byte header: stream type, three zero bytes, big-endian payload length; then the
 * payload); with a TTY the body is the raw terminal output, all of it "stdout". Frames may split a
 * line, a line may span frames, and either may split a UTF-8 character: bytes are kept per stream
 * until a newline, then decoded. A line longer than `maxLineBytes` is cut there (its rest skipped up
 * to the next newline), so memory stays bounded whatever the container wrote.
 */
import { MonitoringError } from './errors.js';

export type StreamName = 'stdout' | 'stderr';

export interface RawLine {
  stream: StreamName;
  /** The line without its newline (a trailing \r is dropped too). */
  text: string;
  /** True when the line was longer than the limit and was cut. */
  cut: boolean;
}

class LineBuffer {
  private parts: Buffer[] = [];
  private size = 0;
  private cut = false;

  constructor(
    private readonly stream: StreamName,
    private readonly maxLineBytes: number,
  ) {}

  push(bytes: Buffer, out: RawLine[]): void {
    let start = 0;
    for (;;) {
      const newline = bytes.indexOf(0x0a, start);
      const end = newline < 0 ? bytes.length : newline;
      this.append(bytes.subarray(start, end));
      if (newline < 0) return;
      out.push(this.take());
      start = newline + 1;
    }
  }

  /** The line in progress, if any (at the end of the stream). */
  flush(out: RawLine[]): void {
    if (this.size > 0 || this.cut) out.push(this.take());
  }

  private append(bytes: Buffer): void {
    if (bytes.length === 0) return;
    const room = this.maxLineBytes - this.size;
    if (room <= 0) {
      this.cut = true;
      return;
    }
    const kept = bytes.length > room ? bytes.subarray(0, room) : bytes;
    if (kept.length < bytes.length) this.cut = true;
    // Copied: the chunk's memory belongs to the socket and is reused.
    this.parts.push(Buffer.from(kept));
    this.size += kept.length;
  }

  private take(): RawLine {
    let text = Buffer.concat(this.parts, this.size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    // A cut through a multi-byte character decodes as U+FFFD at the end: drop it.
    if (this.cut && text.endsWith('\uFFFD')) text = text.slice(0, -1);
    const line: RawLine = { stream: this.stream, text, cut: this.cut };
    this.parts = [];
    this.size = 0;
    this.cut = false;
    return line;
  }
}

/** Splits the body of GET /containers/{id}/logs into lines, chunk by chunk. */
export class LogStreamSplitter {
  private readonly stdout: LineBuffer;
  private readonly stderr: LineBuffer;
  private header = Buffer.alloc(0);
  private remaining = 0;
  private current: LineBuffer | undefined;
  private systemError: Buffer[] = [];
  private inSystemError = false;

  constructor(
    /** False for containers with a TTY: the body is raw output, no frames. */
    private readonly multiplexed: boolean,
    maxLineBytes: number,
  ) {
    this.stdout = new LineBuffer('stdout', maxLineBytes);
    this.stderr = new LineBuffer('stderr', maxLineBytes);
  }

  /** The complete lines in `chunk` (and in what came before it). */
  push(chunk: Buffer): RawLine[] {
    const out: RawLine[] = [];
    if (!this.multiplexed) {
      this.stdout.push(chunk, out);
      return out;
    }
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const need = 8 - this.header.length;
        const piece = chunk.subarray(offset, offset + need);
        this.header = this.header.length === 0 ? Buffer.from(piece) : Buffer.concat([this.header, piece]);
        offset += piece.length;
        if (this.header.length < 8) break;
        this.startFrame(this.header);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      const payload = chunk.subarray(offset, offset + take);
      if (this.inSystemError) {
        if (this.systemError.reduce((n, b) => n + b.length, 0) < 4096) this.systemError.push(Buffer.from(payload));
      } else {
        this.current?.push(payload, out);
      }
      offset += take;
      this.remaining -= take;
      if (this.remaining === 0 && this.inSystemError) this.raiseSystemError();
    }
    return out;
  }

  /** The last, unterminated lines. */
  end(): RawLine[] {
    // A frame cut short (the connection ended mid-frame) keeps what arrived.
    const out: RawLine[] = [];
    this.stdout.flush(out);
    this.stderr.flush(out);
    return out;
  }

  private startFrame(header: Buffer): void {
    const type = header[0];
    if (header[1] !== 0 || header[2] !== 0 || header[3] !== 0 || type === undefined || type > 3) {
      throw new MonitoringError(
        'UPSTREAM_FAILED',
        'The Docker engine sent a log stream that is not in its multiplexed format',
      );
    }
    this.remaining = header.readUInt32BE(4);
    this.inSystemError = type === 3;
    // Type 0 (stdin) never carries logs; treat as stdout rather than fail.
    this.current = type === 2 ? this.stderr : this.stdout;
    if (this.remaining === 0 && this.inSystemError) this.raiseSystemError();
  }

  private raiseSystemError(): never {
    const text = Buffer.concat(this.systemError).toString('utf8').trim().slice(0, 300);
    throw new MonitoringError(
      'UPSTREAM_FAILED',
      `The Docker engine reported an error while reading logs: ${text || 'unknown'}`,
    );
  }
}

/** Builds one engine log frame (for tests and fixtures). */
export function logFrame(stream: StreamName | 'system', payload: string | Buffer): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : stream === 'stderr' ? 2 : 3;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

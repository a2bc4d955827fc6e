// The log's destination: lines are gathered in memory and written with one write(2) per event-loop
// turn. On the Check path a log line costs a string append; the write happens after the turn's
// answers went out. Bounded: a reader that stops reading makes lines drop (and be counted), never
// the heap grow or a Check wait.
import { EventEmitter } from 'node:events';
import { closeSync, constants, fstatSync, openSync, statSync, write, writeSync } from 'node:fs';

/** A log destination that drops lines rather than buffer without bound, and says when it does. */
export interface BoundedDestination {
  /** Queues one line (newline included); drops it (event 'drop') when the buffer is full. */
  write(line: string): boolean;
  /** 'drop' is emitted with every dropped line; 'drain' once the buffer is empty again after a drop or a stall. */
  on(event: 'drop' | 'drain' | 'error', listener: (arg?: unknown) => void): unknown;
  /** Writes what the descriptor takes now, without waiting (pino calls this from logger.flush). */
  flush(cb?: (err?: Error) => void): void;
  /** Writes what the descriptor takes now, then closes the destination (not fd 0-2 themselves). */
  end(): void;
}

/** Where the log goes (default stdout) and how much of it may wait in memory for a slow reader. */
export interface LogDestinationOptions {
  /** File descriptor or file path; default 1 (stdout). */
  readonly dest?: number | string;
  /** Bytes buffered while the destination is slow; a line that does not fit is dropped. */
  readonly maxBufferBytes: number;
}

/** Nothing left to write. */
const EMPTY = Buffer.alloc(0);
/** A turn's lines are also written once this many bytes are waiting (bounds one write's size). */
const FLUSH_AT_BYTES = 64 * 1024;
/** Retry delays while the descriptor takes nothing (a full pipe): first and longest, ms. */
const RETRY_FIRST_MS = 5;
const RETRY_MAX_MS = 200;

/**
 * How lines reach the descriptor. 'sync': write(2) from the event loop, for what never blocks it
 * long: regular files, character devices (/dev/null, a TTY) and pipes reopened non-blocking.
 * 'async': libuv's thread pool, one write in flight, for anything else (a socket, say), which may
 * block and cannot be reopened non-blocking.
 */
type WriteMode = 'sync' | 'async';

/** The destination behind the logger; see createLogDestination. */
export class LogDestination extends EventEmitter implements BoundedDestination {
  readonly fd: number;
  private readonly mode: WriteMode;
  private readonly ownsFd: boolean;
  private readonly maxBytes: number;
  /** Lines of this turn, not yet joined. */
  private lines: string[] = [];
  private linesBytes = 0;
  /** Bytes a previous write did not take (a full pipe, or an async write in flight). */
  private carry: Buffer | undefined;
  /** The write planned at the end of this turn, if any (cancelled when a flush writes first). */
  private turn: NodeJS.Immediate | undefined;
  private writing = false;
  private retryMs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A line was dropped or a write stalled since the buffer was last empty: emit 'drain' when it is. */
  private owesDrain = false;
  private closed = false;

  constructor(options: LogDestinationOptions) {
    super();
    const target = options.dest ?? 1;
    const opened = openTarget(target);
    this.fd = opened.fd;
    this.mode = opened.mode;
    this.ownsFd = opened.owns;
    this.maxBytes = options.maxBufferBytes;
    // Without a listener an 'error' event would throw: a broken log must not crash the server.
    this.on('error', () => undefined);
  }

  /** Bytes waiting to be written. */
  get bufferedBytes(): number {
    return this.linesBytes + (this.carry?.length ?? 0);
  }

  write(line: string): boolean {
    if (this.closed) return false;
    const bytes = Buffer.byteLength(line);
    if (this.bufferedBytes + bytes > this.maxBytes) {
      this.owesDrain = true;
      this.emit('drop', line);
      return false;
    }
    this.lines.push(line);
    this.linesBytes += bytes;
    if (this.linesBytes >= FLUSH_AT_BYTES && this.retryTimer === undefined) this.writeOut();
    else if (this.turn === undefined && this.retryTimer === undefined) this.turn = setImmediate(this.onTurn);
    return true;
  }

  flush(cb?: (err?: Error) => void): void {
    if (this.mode === 'sync') {
      // Written now: the planned turn would find nothing, yet still cost the event loop a round.
      this.cancelTurn();
      this.writeOut();
    }
    cb?.();
  }

  end(): void {
    if (this.closed) return;
    this.writeOut();
    this.closed = true;
    this.cancelTurn();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.ownsFd && !this.writing) closeQuietly(this.fd);
  }

  private readonly onTurn = (): void => {
    this.turn = undefined;
    this.writeOut();
  };

  private cancelTurn(): void {
    if (this.turn === undefined) return;
    clearImmediate(this.turn);
    this.turn = undefined;
  }

  private readonly onRetry = (): void => {
    this.retryTimer = undefined;
    this.writeOut();
  };

  /** Moves the turn's lines behind any carried bytes, as one Buffer. */
  private pending(): Buffer | undefined {
    if (this.lines.length > 0) {
      const joined = Buffer.from(this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join(''));
      this.lines = [];
      this.linesBytes = 0;
      this.carry = this.carry === undefined ? joined : Buffer.concat([this.carry, joined]);
    }
    return this.carry;
  }

  private writeOut(): void {
    if (this.closed || this.writing) return;
    if (this.mode === 'sync' && this.carry === undefined && this.lines.length > 0) {
      this.writeText();
      return;
    }
    const buf = this.pending();
    if (buf === undefined) return;
    if (this.mode === 'async') {
      this.writing = true;
      write(this.fd, buf, 0, buf.length, null, (err, n) => {
        this.writing = false;
        this.wrote(buf, err, n);
        if (this.closed && this.ownsFd) closeQuietly(this.fd);
        else if ((this.carry !== undefined || this.lines.length > 0) && this.retryTimer === undefined) this.writeOut();
      });
      return;
    }
    let n = 0;
    let error: NodeJS.ErrnoException | null = null;
    try {
      n = writeSync(this.fd, buf, 0, buf.length, null);
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    this.wrote(buf, error, n);
  }

  /**
   * The usual case: nothing carried over, the descriptor never blocks. The turn's text goes to
   * write(2) as a string (node encodes it into its own scratch memory), so no Buffer is made per
   * turn; only what the descriptor did not take becomes one.
   */
  private writeText(): void {
    const text = this.lines.length === 1 ? (this.lines[0] as string) : this.lines.join('');
    const bytes = this.linesBytes;
    this.lines = [];
    this.linesBytes = 0;
    let n = 0;
    let error: NodeJS.ErrnoException | null = null;
    try {
      n = writeSync(this.fd, text);
    } catch (e) {
      error = e as NodeJS.ErrnoException;
    }
    if (error === null && n >= bytes) {
      this.wrote(EMPTY, null, 0);
      return;
    }
    const buf = Buffer.from(text);
    this.carry = buf;
    this.wrote(buf, error, n);
  }

  /** Keeps what was not written; on a stall retries on a timer that backs off, never spinning. */
  private wrote(buf: Buffer, err: NodeJS.ErrnoException | null, n: number): void {
    if (err !== null) {
      // EAGAIN: the pipe is full. Anything else (EPIPE: nobody reads any more) is kept too: the
      // bound then fills and later lines are dropped and counted, which is what an operator sees.
      if (err.code !== 'EAGAIN') this.emit('error', err);
      this.stall();
      return;
    }
    this.carry = n >= buf.length ? undefined : buf.subarray(n);
    if (this.carry !== undefined) {
      this.stall();
      return;
    }
    this.retryMs = 0;
    if (this.lines.length === 0 && this.owesDrain) {
      this.owesDrain = false;
      this.emit('drain');
    }
  }

  private stall(): void {
    this.owesDrain = true;
    if (this.closed || this.retryTimer !== undefined) return;
    this.retryMs = this.retryMs === 0 ? RETRY_FIRST_MS : Math.min(this.retryMs * 2, RETRY_MAX_MS);
    this.retryTimer = setTimeout(this.onRetry, this.retryMs);
    // A log nobody reads must not keep the process alive at exit.
    this.retryTimer.unref();
  }
}

/**
 * Opens the target. A pipe or FIFO is reopened non-blocking (Linux, through /proc/self/fd): a
 * write to a full blocking pipe would block the event loop (or park a libuv worker for good, so the
 * process could not even exit); non-blocking, it answers EAGAIN and the lines wait. The new open
 * file description is this process's own: fd 1 itself is left as it is.
 */
function openTarget(dest: number | string): { fd: number; mode: WriteMode; owns: boolean } {
  let fd: number;
  let owns = false;
  if (typeof dest === 'number') fd = dest;
  else {
    const isFifo = safeIsFifo(dest);
    fd = openSync(dest, isFifo ? constants.O_WRONLY | constants.O_NONBLOCK : 'a');
    owns = true;
    if (isFifo) return { fd, mode: 'sync', owns };
  }
  let stat;
  try {
    stat = fstatSync(fd);
  } catch {
    return { fd, mode: 'async', owns };
  }
  if (stat.isFile() || stat.isCharacterDevice()) return { fd, mode: 'sync', owns };
  if (stat.isFIFO() && !owns) {
    try {
      return { fd: openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_NONBLOCK), mode: 'sync', owns: true };
    } catch {
      return { fd, mode: 'async', owns };
    }
  }
  return { fd, mode: 'async', owns };
}

function safeIsFifo(path: string): boolean {
  try {
    return statSync(path).isFIFO();
  } catch {
    return false;
  }
}

function closeQuietly(fd: number): void {
  if (fd <= 2) return;
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** Creates the bounded destination the logger writes to (see LogDestination). */
export function createLogDestination(options: LogDestinationOptions): LogDestination {
  return new LogDestination(options);
}

// The one pino logger: JSON lines on stdout, written asynchronously so logging never blocks a Check.
// Secrets never reach it by construction (the decision log picks fields, never whole headers);
// redaction is a second line of defence.
import { constants, fstatSync, openSync, statSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';
import sonicBoom from 'sonic-boom';

/** Log levels the config accepts. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Paths removed from any object that is logged by mistake. */
export const REDACT_PATHS: readonly string[] = [
  'headers.authorization',
  'headers.cookie',
  'headers["x-forwarded-client-cert"]',
  'headers["proxy-authorization"]',
  'certificate',
  'token',
  'adminToken',
];

/** A log destination that drops lines rather than buffer without bound, and says when it does. */
export interface BoundedDestination extends DestinationStream {
  /** 'drop' is emitted with the dropped line whenever the buffer is full; 'drain' once it is empty again. */
  on(event: 'drop' | 'drain', listener: () => void): unknown;
  /** Writes what is buffered, then closes the destination. */
  end(): void;
}

/** Where the log goes (default stdout) and how much of it may wait in memory for a slow reader. */
export interface LogDestinationOptions {
  /** File descriptor or file path; default 1 (stdout). */
  readonly dest?: number | string;
  /** Bytes buffered while the destination is slow; a line that does not fit is dropped. */
  readonly maxBufferBytes: number;
}

/**
 * An asynchronous destination (sonic-boom, as pino.destination) with an upper bound on its buffer.
 * Unbounded by default, a stdout nobody reads (a stalled log shipper, a full pipe) would grow the
 * heap until the process dies; bounded, the Check path never waits for the log and memory stays
 * flat: lines past the bound are dropped, and the caller counts them (spiffe_authz_log_dropped_total).
 * Built directly rather than with pino.destination, whose exit hook flushes synchronously and
 * retries forever on a full or broken pipe: the process could then never exit.
 */
export function createLogDestination(options: LogDestinationOptions): BoundedDestination {
  // maxWrite 4 KiB: sonic-boom measures the UTF-8 length of its last pending chunk on every write,
  // so its 16 KiB default costs ~16 µs per line under load; 4 KiB chunks cost ~7 µs (pino's own
  // serialisation included) for about the same number of write calls.
  const dest = new sonicBoom.SonicBoom({
    fd: nonBlockingPipe(options.dest ?? 1),
    sync: false,
    maxLength: options.maxBufferBytes,
    maxWrite: LOG_WRITE_CHUNK_BYTES,
  });
  // A write error (EPIPE: nobody will read stdout again) must not crash the server. What is buffered
  // stays there, so the bound fills and later lines are dropped and counted.
  dest.on('error', () => undefined);
  return dest;
}

/**
 * A pipe or FIFO destination reopened in non-blocking mode (Linux, through /proc/self/fd): a write to
 * a full blocking pipe parks a libuv worker thread for good, and the process then cannot even exit
 * (exit joins the worker threads). Non-blocking, a full pipe answers EAGAIN and sonic-boom retries
 * on a timer. The new open file description is this process's own: fd 1 itself is left as it is.
 * Anything else (a file, a TTY, a socket, another OS) is returned unchanged.
 */
function nonBlockingPipe(dest: number | string): number | string {
  try {
    const isFifo = typeof dest === 'number' ? fstatSync(dest).isFIFO() : statSync(dest).isFIFO();
    if (!isFifo) return dest;
    return openSync(typeof dest === 'number' ? `/proc/self/fd/${dest}` : dest, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch {
    return dest;
  }
}

/**
 * Counts every dropped line through `onDrop` and, once the destination has caught up, writes one
 * warning with the number lost since the last one, so the gap is visible in the log itself.
 */
export function reportLogDrops(dest: BoundedDestination, logger: Logger, onDrop: () => void): void {
  let dropped = 0;
  dest.on('drop', () => {
    dropped++;
    onDrop();
  });
  dest.on('drain', () => {
    if (dropped === 0) return;
    const lost = dropped;
    dropped = 0;
    logger.warn({ dropped: lost }, 'log lines dropped');
  });
}

/** Largest chunk handed to one write(2) of the log destination. */
const LOG_WRITE_CHUNK_BYTES = 4096;

/** Buffer bound of the default destination (the config's log.maxBufferBytes default). */
export const DEFAULT_LOG_MAX_BUFFER_BYTES = 16 * 1024 * 1024;

/** Creates the root logger on `destination` (default: stdout, bounded); tests pass their own. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const dest = destination ?? createLogDestination({ maxBufferBytes: DEFAULT_LOG_MAX_BUFFER_BYTES });
  return pino(
    {
      level,
      base: { service: 'spiffe-ext-authz' },
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    },
    dest,
  );
}

export type { Logger };

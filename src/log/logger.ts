// The one pino logger: JSON lines on stdout, gathered and written once per event-loop turn
// (log-destination.ts), so logging never blocks a Check. Secrets never reach it by construction
// (the decision log picks fields, never whole headers); redaction is a second line of defence.
import { pino, type DestinationStream, type Logger } from 'pino';
import { createLogDestination, type BoundedDestination } from './log-destination.js';

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
export { createLogDestination, type BoundedDestination, type LogDestinationOptions } from './log-destination.js';

// The one pino logger: JSON lines on stdout, written asynchronously so logging never blocks a Check.
// Secrets never reach it by construction (the decision log picks fields, never whole headers);
// redaction is a second line of defence.
import { pino, type DestinationStream, type Logger } from 'pino';

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

/** Creates the root logger; tests pass their own destination. */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const dest = destination ?? pino.destination({ dest: 1, sync: false });
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

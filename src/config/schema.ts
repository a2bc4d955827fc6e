// The config file's schema. Strict objects everywhere: an unknown key is an error with its path.
// Defaults live here and nowhere else.
import { z } from 'zod';
import { IDENTITY_SOURCES, MODES } from '../authz/types.js';
import { parseTrustDomain } from '../spiffe/spiffe-id.js';

/** Name of the virtual route that collects requests no configured route matched. */
export const UNMATCHED_ROUTE = '_unmatched';

const hostPort = z.string().refine((v) => parseListenAddress(v) !== undefined, {
  message: 'must be "host:port" with a port from 0 to 65535 (IPv6 hosts in brackets)',
});

const trustDomain = z.string().superRefine((v, ctx) => {
  const r = parseTrustDomain(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `not a valid SPIFFE trust domain: ${r.error.detail}` });
});

const mode = z.enum(MODES);

const routeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1-128 characters of A-Z a-z 0-9 . _ - starting with a letter or digit');

const hostPattern = z
  .string()
  .regex(
    /^(\*|(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*)$/i,
    'must be a host name without port, "*.suffix" or "*"',
  );

const method = z.string().regex(/^[A-Za-z]{1,20}$/, 'must be an HTTP method name');

/** ID patterns per trust domain: `{ "prod.example.org": ["/ns/a/sa/*", "**"] }`. */
const rulesByTrustDomain = z.record(z.string(), z.array(z.string()).min(1, 'must list at least one pattern'));

const route = z.strictObject({
  /** Unique name; what Envoy sends in `context_extensions.route`. */
  name: routeName,
  match: z
    .strictObject({
      hosts: z.array(hostPattern).min(1).optional(),
      paths: z.array(z.string()).min(1).optional(),
      methods: z.array(method).min(1).optional(),
    })
    .optional(),
  mode: mode.optional(),
  allow: rulesByTrustDomain.prefault({}),
  deny: rulesByTrustDomain.prefault({}),
});

/** The whole config file. */
export const configSchema = z
  .strictObject({
    listen: z
      .strictObject({
        grpc: hostPort.default('0.0.0.0:9191'),
        admin: hostPort.default('0.0.0.0:9192'),
      })
      .prefault({}),
    identity: z
      .strictObject({
        sources: z
          .array(z.enum(IDENTITY_SOURCES))
          .min(1)
          .refine((a) => new Set(a).size === a.length, 'must not repeat a source')
          .default(['principal', 'xfcc']),
        xfcc: z
          .strictObject({
            /** Trust the header only when the Envoy in front uses SANITIZE_SET or APPEND_FORWARD. */
            trusted: z.boolean().default(false),
            maxBytes: z.number().int().min(256).max(1_048_576).default(16_384),
            maxElements: z.number().int().min(1).max(256).default(16),
          })
          .prefault({}),
      })
      .prefault({}),
    defaults: z
      .strictObject({
        mode: mode.default('shadow'),
        unmatchedRoute: z.enum(['allow', 'deny']).default('deny'),
      })
      .prefault({}),
    trustDomains: z
      .array(trustDomain)
      .refine((a) => new Set(a).size === a.length, 'must not repeat a trust domain')
      .default([]),
    routes: z.array(route).default([]),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        decisions: z.enum(['all', 'deny', 'none']).default('all'),
      })
      .prefault({}),
  });

/** The config as the schema returns it, defaults filled in. */
export type Config = z.infer<typeof configSchema>;
/** One route as written in the config. */
export type RouteConfig = Config['routes'][number];

/** Splits "host:port" (IPv6 in brackets); undefined when malformed. */
export function parseListenAddress(value: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m || m[1] === undefined || m[2] === undefined) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].startsWith('[') ? m[1].slice(1, -1) : m[1], port };
}

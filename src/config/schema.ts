// The config file's schema. Strict objects everywhere: an unknown key is an error with its path.
// Defaults live here and nowhere else.
import * as z from 'zod';
import { IDENTITY_SOURCES, MODES } from '../authz/types.js';
import { parseSpiffeId, parseTrustDomain } from '../spiffe/spiffe-id.js';
import { WINDOWS, windowMs } from '../rollout/window-counters.js';

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

const sourceList = z
  .array(z.enum(IDENTITY_SOURCES))
  .min(1)
  .refine((a) => new Set(a).size === a.length, 'must not repeat a source');

const spiffeIdString = z.string().superRefine((v, ctx) => {
  const r = parseSpiffeId(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `not a valid SPIFFE ID: ${r.error.detail}` });
});

/** A trust domain: its name alone (no bundle: only Envoy-verified identities), or with a bundle file. */
const trustDomainObject = z.strictObject({
  name: trustDomain,
  /** X.509 bundle (PEM) or SPIFFE bundle (JWKS JSON); reloaded when the file changes. */
  bundle: z.string().min(1),
});
const trustDomainEntry = z.union([trustDomain, trustDomainObject], {
  error: 'must be a trust domain name, or { name, bundle } with the path of its bundle file',
});

/** 0–100 in steps of 0.01: cohorts are 1/10,000 of the callers. */
const enforcePercent = z.number().min(0).max(100).multipleOf(0.01);

const outsideCohort = z.enum(['warn', 'shadow']);

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

/** Staged rollout: overrides' state file, the admin token, the safe-to-enforce gate, top callers. */
const rollout = z
  .strictObject({
    /** Where admin API overrides are persisted (atomic writes); unset: overrides live in memory only. */
    stateFile: z.string().min(1).optional(),
    /** Bearer token for admin mutations: from a file (preferred), else the named environment variable. */
    adminToken: z
      .strictObject({
        file: z.string().min(1).optional(),
        env: envName.default('SPIFFE_AUTHZ_ADMIN_TOKEN'),
      })
      .prefault({}),
    /** What callers outside the enforced cohort of an enforce route get, unless the route says. */
    outsideCohort: outsideCohort.default('warn'),
    /** Moving a route to enforce (or raising its percent) needs this much clean observation, or force. */
    gate: z
      .strictObject({
        minChecks: z.number().int().min(0).max(1_000_000_000).default(100),
        minObservedSeconds: z.number().int().min(0).max(30 * 86_400).default(900),
        window: z.enum(WINDOWS).default('15m'),
      })
      .refine((g) => g.minObservedSeconds * 1000 >= windowMs(g.window), {
        // Else the window could hold checks from before observation began (a deny enforced then is no would-deny).
        message: 'must be at least the length of rollout.gate.window',
        path: ['minObservedSeconds'],
      })
      .prefault({}),
    /** Would-deny callers tracked per route (bounded memory whatever the number of callers). */
    topCallers: z.number().int().min(1).max(1000).default(20),
  })
  .prefault({});

/**
 * Request size limits. maxRequestBytes is grpc-js's receive limit (a bigger CheckRequest is refused
 * with RESOURCE_EXHAUSTED before it is decoded); the others deny with REQUEST_TOO_LARGE before any
 * identity source is parsed. Envoy's own defaults (60 KiB, 100 headers) are below these.
 */
const limits = z
  .strictObject({
    maxRequestBytes: z.number().int().min(4096).max(67_108_864).default(1_048_576),
    /** Sum of the UTF-8 bytes of every header name and value in the request's headers map. */
    maxHeaderBytes: z.number().int().min(1024).max(67_108_864).default(65_536),
    maxHeaderCount: z.number().int().min(1).max(100_000).default(200),
    /** UTF-8 bytes of the request path without its query. */
    maxPathBytes: z.number().int().min(256).max(1_048_576).default(8192),
  })
  .prefault({});

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
  /** Share of callers (by a stable hash of route and SPIFFE ID) a deny is enforced for when the mode is enforce. */
  enforcePercent: enforcePercent.default(100),
  /** What callers outside the enforced cohort get (default: rollout.outsideCohort). */
  outsideCohort: outsideCohort.optional(),
  /** Per-route identity: which sources this route accepts (in order), and whether a JWT-SVID is required. */
  identity: z
    .strictObject({
      sources: sourceList.optional(),
      requireJwtSvid: z.boolean().default(false),
    })
    .optional(),
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
        /** Sources tried in this order; the first one present gives the identity. */
        sources: sourceList.default(['principal', 'certificate', 'xfcc']),
        certificate: z
          .strictObject({
            /** Deny with BUNDLE_UNAVAILABLE when the caller's trust domain has no X.509 bundle. */
            requireBundle: z.boolean().default(false),
            /** Also require a critical digitalSignature key usage (issuer obligations). */
            strict: z.boolean().default(false),
            /** Largest PEM (leaf, or XFCC Chain) read; larger ones deny with CERT_MALFORMED. */
            maxBytes: z.number().int().min(1024).max(1_048_576).default(65_536),
          })
          .prefault({}),
        xfcc: z
          .strictObject({
            /** Trust the header only when the Envoy in front uses SANITIZE_SET or APPEND_FORWARD. */
            trusted: z.boolean().default(false),
            /** When set, the last element's By must be one of these SPIFFE IDs (the proxy in front). */
            trustedProxies: z.array(spiffeIdString).default([]),
            /** peer: the last element describes this Envoy's own downstream peer (must agree with principal);
             *  origin: it names the original client behind a trusted gateway (the principal is the gateway). */
            hop: z.enum(['peer', 'origin']).default('peer'),
            maxBytes: z.number().int().min(256).max(1_048_576).default(16_384),
            maxElements: z.number().int().min(1).max(256).default(16),
          })
          .prefault({}),
        jwt: z
          .strictObject({
            /** Header carrying `Bearer <JWT-SVID>`. */
            header: z
              .string()
              .regex(/^[a-z0-9-]+$/, 'must be a lower-case header name')
              .default('authorization'),
            /** The token's aud must contain one of these; required when any route uses jwt. */
            audiences: z.array(z.string().min(1)).default([]),
            skewSeconds: z.number().int().min(0).max(300).default(30),
            maxBytes: z.number().int().min(512).max(65_536).default(8192),
          })
          .prefault({}),
        /** Verified certificates and tokens are cached by their raw input, never past their expiry. */
        cache: z
          .strictObject({ maxEntries: z.number().int().min(0).max(1_000_000).default(10_000) })
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
      .array(trustDomainEntry)
      .refine((a) => new Set(a.map(trustDomainName)).size === a.length, 'must not repeat a trust domain')
      .default([]),
    routes: z.array(route).default([]),
    rollout,
    limits,
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        decisions: z.enum(['all', 'deny', 'none']).default('all'),
        /** Log bytes held while stdout is slow; lines beyond it are dropped and counted, never waited for. */
        maxBufferBytes: z.number().int().min(65_536).max(1_073_741_824).default(16 * 1_048_576),
      })
      .prefault({}),
  });

/** The name of a trustDomains entry, whichever form it is written in. */
export function trustDomainName(entry: string | { readonly name: string }): string {
  return typeof entry === 'string' ? entry : entry.name;
}

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

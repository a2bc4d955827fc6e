// Verdict → Envoy CheckResponse: the one table that maps an outcome to the wire. Every outcome,
// allow or deny, is a CheckResponse (never a gRPC error) and carries dynamic_metadata for access logs.
import { REASONS } from '../authz/reasons.js';
import type { Verdict } from '../authz/types.js';
import type { WireCheckResponse, WireHeaderOption, WireValue } from './wire.js';

/** Header added to the upstream request and to the caller's response when a warn route would deny. */
export const WARNING_HEADER = 'x-spiffe-authz-warning';
/** Header on an enforced deny naming the reason. */
export const REASON_HEADER = 'x-spiffe-authz-reason';

const OVERWRITE = 'OVERWRITE_IF_EXISTS_OR_ADD' as const;

function header(key: string, value: string): WireHeaderOption {
  return { header: { key, value }, append_action: OVERWRITE };
}

// google.protobuf.Struct/Value come from protobufjs's bundled well-known types, whose field names are
// camelCase (stringValue, boolValue, nullValue) even with keepCase: snake_case keys would be dropped
// silently on encode.
function str(value: string): WireValue {
  return { stringValue: value };
}

/** The dynamic_metadata Struct for one verdict (namespace: envoy.filters.http.ext_authz). */
export function verdictMetadata(v: Verdict): WireCheckResponse['dynamic_metadata'] {
  return {
    fields: {
      decisionId: str(v.decisionId),
      route: str(v.route),
      mode: str(v.mode),
      enforcePercent: { numberValue: v.enforcePercent },
      decision: str(v.decision),
      effect: str(v.effect),
      reason: str(v.reason),
      wouldDeny: { boolValue: v.decision === 'deny' && v.effect !== 'deny' },
      spiffeId: v.identity === undefined ? { nullValue: 'NULL_VALUE' } : str(v.identity.spiffeId),
      identitySource: v.identity === undefined ? { nullValue: 'NULL_VALUE' } : str(v.identity.source),
      agreedSources: str(v.identity === undefined ? '' : v.identity.agreed.join(',')),
    },
  };
}

/** The JSON body of an enforced deny: reason, route and decision id. */
export function deniedBody(v: Verdict): string {
  return JSON.stringify({ reason: v.reason, route: v.route, decisionId: v.decisionId });
}

/** Renders a verdict as the CheckResponse Envoy expects. */
export function toEnvoy(v: Verdict): WireCheckResponse {
  const dynamic_metadata = verdictMetadata(v);
  if (v.effect === 'deny') {
    const info = REASONS[v.reason];
    return {
      status: { code: info.grpcCode === 0 ? 7 : info.grpcCode, message: v.reason },
      denied_response: {
        status: { code: info.httpStatus === 200 ? 403 : info.httpStatus },
        headers: [header('content-type', 'application/json'), header(REASON_HEADER, v.reason)],
        body: deniedBody(v),
      },
      dynamic_metadata,
    };
  }
  if (v.effect === 'warn') {
    const warning = header(WARNING_HEADER, `${v.reason}; route=${v.route}`);
    return {
      status: { code: 0 },
      ok_response: { headers: [warning], headers_to_remove: [], response_headers_to_add: [warning] },
      dynamic_metadata,
    };
  }
  // A caller must not be able to plant a warning header that the upstream would take for ours.
  return {
    status: { code: 0 },
    ok_response: { headers: [], headers_to_remove: [WARNING_HEADER], response_headers_to_add: [] },
    dynamic_metadata,
  };
}

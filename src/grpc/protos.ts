// Loads Envoy's ext_authz v3 service definition once, from the pinned envoy-protos package.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AUTHORIZATION_SERVICE, ENVOY_PROTO_INCLUDE_DIRS, EXT_AUTHZ_PROTO } from '../../envoy-protos/index.js';

/** proto-loader options shared by the server, the bench and the tests: snake_case field names as on the wire. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: [...ENVOY_PROTO_INCLUDE_DIRS],
});

let cached: grpc.ServiceDefinition | undefined;

/** The Authorization service definition (`envoy.service.auth.v3.Authorization`), loaded on first use. */
export function loadAuthorizationService(): grpc.ServiceDefinition {
  if (cached !== undefined) return cached;
  const pkgDef = protoLoader.loadSync(EXT_AUTHZ_PROTO, PROTO_LOADER_OPTIONS);
  const def = pkgDef[AUTHORIZATION_SERVICE];
  if (def === undefined || !('Check' in def)) throw new Error(`${AUTHORIZATION_SERVICE} not found in ${EXT_AUTHZ_PROTO}`);
  cached = def as grpc.ServiceDefinition;
  return cached;
}

/** A client constructor for the Authorization service (tests, bench, the `check` tooling). */
export function authorizationClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(loadAuthorizationService(), 'Authorization');
}

// Where Envoy's protos come from: the pinned npm package @grpc/grpc-js-xds ships envoy-api, xds,
// googleapis and protoc-gen-validate under deps/. Nothing is copied into this repository; this
// module only resolves the include paths and names the entry files.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Root of the installed @grpc/grpc-js-xds package (its package.json is not export-restricted). */
const XDS_ROOT = dirname(require.resolve('@grpc/grpc-js-xds/package.json'));

/** Include directories, in the order protoc would be given them. */
export const ENVOY_PROTO_INCLUDE_DIRS: readonly string[] = Object.freeze([
  join(XDS_ROOT, 'deps', 'envoy-api'),
  join(XDS_ROOT, 'deps', 'xds'),
  join(XDS_ROOT, 'deps', 'googleapis'),
  join(XDS_ROOT, 'deps', 'protoc-gen-validate'),
]);

/** The ext_authz v3 service definition, relative to the include directories. */
export const EXT_AUTHZ_PROTO = 'envoy/service/auth/v3/external_auth.proto';

/** Envoy's bootstrap config, for checking example Envoy configs against the real schema. */
export const BOOTSTRAP_PROTO = 'envoy/config/bootstrap/v3/bootstrap.proto';

/** Protos that a bootstrap references through `typed_config` (Any) in this project's examples. */
export const EXAMPLE_EXTENSION_PROTOS: readonly string[] = Object.freeze([
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
]);

/** Fully qualified name of the Check service. */
export const AUTHORIZATION_SERVICE = 'envoy.service.auth.v3.Authorization';

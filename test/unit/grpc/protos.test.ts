// The Envoy protos come from the pinned npm package and define the Check service.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENVOY_PROTO_INCLUDE_DIRS, EXT_AUTHZ_PROTO } from '../../../envoy-protos/index.js';
import { loadAuthorizationService } from '../../../src/grpc/protos.js';
import { CHECK_METHOD } from '../../../src/grpc/server.js';

describe('envoy-protos', () => {
  it('resolves include dirs inside node_modules/@grpc/grpc-js-xds', () => {
    expect(ENVOY_PROTO_INCLUDE_DIRS).toHaveLength(4);
    for (const dir of ENVOY_PROTO_INCLUDE_DIRS) expect(dir).toContain(join('node_modules', '@grpc', 'grpc-js-xds', 'deps'));
    expect(existsSync(join(ENVOY_PROTO_INCLUDE_DIRS[0]!, EXT_AUTHZ_PROTO))).toBe(true);
  });
});

describe('loadAuthorizationService', () => {
  it('has envoy.service.auth.v3.Authorization/Check as a unary method', () => {
    const svc = loadAuthorizationService();
    expect(svc['Check']?.path).toBe('/envoy.service.auth.v3.Authorization/Check');
    expect(svc['Check']?.requestStream).toBe(false);
    expect(svc['Check']?.responseStream).toBe(false);
    expect(loadAuthorizationService()).toBe(svc); // loaded once
  });
});

describe('CHECK_METHOD', () => {
  it('serves the path and shape the pinned protos give Authorization/Check', () => {
    const fromProtos = loadAuthorizationService()['Check'];
    expect(CHECK_METHOD.path).toBe(fromProtos?.path);
    expect(CHECK_METHOD.requestStream).toBe(fromProtos?.requestStream);
    expect(CHECK_METHOD.responseStream).toBe(fromProtos?.responseStream);
    expect(CHECK_METHOD.originalName).toBe(fromProtos?.originalName);
  });
});

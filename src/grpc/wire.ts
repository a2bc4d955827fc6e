// The parts of Envoy's CheckRequest / CheckResponse this server reads and writes, as proto-loader
// decodes them (keepCase, defaults off: absent fields are undefined). Never leaves src/grpc/.

/** envoy.config.core.v3.HeaderValue as it may appear in header_map (encode_raw_headers). */
export interface WireHeaderValue {
  readonly key?: string;
  readonly value?: string;
  readonly raw_value?: Uint8Array;
}

/** envoy.service.auth.v3.AttributeContext.HttpRequest (the fields used). */
export interface WireHttpRequest {
  readonly id?: string;
  readonly method?: string;
  readonly path?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly header_map?: { readonly headers?: readonly WireHeaderValue[] };
}

/** envoy.service.auth.v3.CheckRequest (the fields used). */
export interface WireCheckRequest {
  readonly attributes?: {
    readonly source?: { readonly principal?: string; readonly certificate?: string };
    readonly request?: { readonly http?: WireHttpRequest };
    readonly context_extensions?: Readonly<Record<string, string>>;
  };
}

/** google.protobuf.Value (the kinds used; camelCase, see to-envoy.ts). */
export type WireValue = { stringValue: string } | { numberValue: number } | { boolValue: boolean } | { nullValue: 'NULL_VALUE' };

/** envoy.config.core.v3.HeaderValueOption. */
export interface WireHeaderOption {
  header: { key: string; value: string };
  append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' | 'APPEND_IF_EXISTS_OR_ADD';
}

/** envoy.service.auth.v3.CheckResponse. */
export interface WireCheckResponse {
  status: { code: number; message?: string };
  denied_response?: { status: { code: number }; headers: WireHeaderOption[]; body: string };
  ok_response?: { headers: WireHeaderOption[]; headers_to_remove: string[]; response_headers_to_add: WireHeaderOption[] };
  dynamic_metadata: { fields: Record<string, WireValue> };
}

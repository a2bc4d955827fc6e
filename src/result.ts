// Expected failures are values: every parser and check returns a Result instead of throwing.

/** A failure with a stable machine code and a human-readable detail. */
export interface Failure<C extends string = string> {
  readonly code: C;
  readonly detail: string;
}

/** Either a value or a Failure; `ok` tells which. */
export type Result<T, C extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: Failure<C> };

/** Wraps a value as a successful Result. */
export function ok<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** Builds a failed Result. */
export function fail<C extends string>(code: C, detail: string): { readonly ok: false; readonly error: Failure<C> } {
  return { ok: false, error: { code, detail } };
}

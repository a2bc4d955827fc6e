// The package entry: the parsers and types other tools can reuse, and the server's start function.
export { parseSpiffeId, parseTrustDomain, validateIdPath, formatSpiffeId, isLeafId, SpiffeIdErrorCode } from './spiffe/spiffe-id.js';
export type { SpiffeId } from './spiffe/spiffe-id.js';
export { parseXfcc } from './identity/xfcc.js';
export type { XfccElement } from './identity/xfcc.js';
export { REASONS, REASON_CODES } from './authz/reasons.js';
export type { Reason, ReasonInfo } from './authz/reasons.js';
export type { CheckInput, Verdict, Mode, Decision, Effect, IdentitySource, CallerIdentity } from './authz/types.js';
export type { Result, Failure } from './result.js';
export { startApp, ConfigLoadError } from './app.js';
export type { App, AppOptions } from './app.js';

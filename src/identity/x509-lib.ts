// Loads @peculiar/x509 once, after the Reflect metadata polyfill its DI container (tsyringe) needs.
// Module evaluation order guarantees the polyfill runs first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };

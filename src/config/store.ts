// Holds the current config snapshot. A Check reads it once and keeps that reference, so it sees one
// version even if a reload swaps the store in the middle.
import type { ConfigSnapshot } from './compile.js';

/** The current snapshot, swapped whole. */
export class ConfigStore {
  private snapshot: ConfigSnapshot;
  private readonly listeners: ((s: ConfigSnapshot) => void)[] = [];

  constructor(initial: ConfigSnapshot) {
    this.snapshot = initial;
  }

  /** The snapshot in force now. */
  current(): ConfigSnapshot {
    return this.snapshot;
  }

  /** Replaces the snapshot and tells the listeners. */
  replace(next: ConfigSnapshot): void {
    this.snapshot = next;
    for (const l of this.listeners) l(next);
  }

  /** Registers a callback for every replacement. */
  onReplace(listener: (s: ConfigSnapshot) => void): void {
    this.listeners.push(listener);
  }
}

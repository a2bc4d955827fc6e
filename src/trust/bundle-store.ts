// Trust bundles per trust domain, loaded from files and reloaded when a file changes. A bundle
// that fails to load keeps the last good one for that trust domain, logs why and sets a metric;
// federation is simply several trust domains, each with its own bundle (spec-notes §2).
import { readFile } from 'node:fs/promises';
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';
import { parseBundleDetailed } from './bundle.js';
import type { BundleLookup, TrustBundle } from './types.js';

/** Options of the store: where to log and count, how often to look at the files. */
export interface BundleStoreOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  /** Called after any bundle changed (caches of verified SVIDs must be dropped). */
  readonly onChange: () => void;
  /** How often each file is stat'ed for changes; 0 disables watching (tests, one-shot tools). */
  readonly pollMs?: number;
}

/** Holds the current bundle of every configured trust domain. */
export class BundleStore {
  private readonly bundles = new Map<string, TrustBundle>();
  private readonly files = new Map<string, string>();
  private readonly loads: Counter<'trust_domain' | 'result'>;
  private readonly up: Gauge<'trust_domain'>;
  private readonly authorities: Gauge<'trust_domain' | 'use'>;

  constructor(private readonly options: BundleStoreOptions) {
    this.loads = new Counter({
      name: 'spiffe_authz_bundle_loads_total',
      help: 'Trust bundle loads by trust domain and result (success, failure).',
      labelNames: ['trust_domain', 'result'] as const,
      registers: [options.registry],
    });
    this.up = new Gauge({
      name: 'spiffe_authz_bundle_up',
      help: '1 when a good bundle is held for the trust domain (the last good one survives failed reloads).',
      labelNames: ['trust_domain'] as const,
      registers: [options.registry],
    });
    this.authorities = new Gauge({
      name: 'spiffe_authz_bundle_authorities',
      help: 'Authorities in the current bundle, by use (x509-svid, jwt-svid).',
      labelNames: ['trust_domain', 'use'] as const,
      registers: [options.registry],
    });
  }

  /** The bundle lookup the verifiers use: only ever the bundle of the asked trust domain. */
  readonly lookup: BundleLookup = (trustDomain) => this.bundles.get(trustDomain);

  /** Sets the trust domain → file map: loads new or moved files, forgets trust domains no longer configured. */
  async configure(files: ReadonlyMap<string, string>): Promise<void> {
    let changed = false;
    for (const [td, path] of this.files) {
      if (files.get(td) === path) continue;
      this.unwatch(path);
      this.files.delete(td);
      if (!files.has(td) && this.bundles.delete(td)) {
        changed = true;
        this.up.remove(td);
      }
    }
    const loading: Promise<boolean>[] = [];
    for (const [td, path] of files) {
      if (this.files.get(td) === path) continue;
      this.files.set(td, path);
      loading.push(this.load(td, path));
      this.watch(td, path);
    }
    for (const ok of await Promise.all(loading)) changed ||= ok;
    if (changed) this.options.onChange();
  }

  /** Re-reads one trust domain's file now (the watcher calls this). Returns true when the bundle changed. */
  async reload(trustDomain: string): Promise<boolean> {
    const path = this.files.get(trustDomain);
    if (path === undefined) return false;
    const changed = await this.load(trustDomain, path);
    if (changed) this.options.onChange();
    return changed;
  }

  /** Stops watching every file. */
  close(): void {
    for (const path of this.files.values()) this.unwatch(path);
  }

  private async load(td: string, path: string): Promise<boolean> {
    const { logger } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      return this.failed(td, path, `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    const parsed = parseBundleDetailed(td, text);
    if (!parsed.ok) return this.failed(td, path, parsed.error.detail);
    const { bundle, ignored } = parsed.value;
    const previous = this.bundles.get(td);
    if (previous?.sequence !== undefined && bundle.sequence !== undefined && bundle.sequence < previous.sequence) {
      logger.warn({ trustDomain: td, file: path, sequence: bundle.sequence, previous: previous.sequence }, 'bundle sequence went backwards');
    }
    this.bundles.set(td, bundle);
    this.loads.labels(td, 'success').inc();
    this.up.labels(td).set(1);
    this.authorities.labels(td, 'x509-svid').set(bundle.x509Authorities.length);
    this.authorities.labels(td, 'jwt-svid').set(bundle.jwtAuthorities.size);
    logger.info(
      { trustDomain: td, file: path, x509Authorities: bundle.x509Authorities.length, jwtAuthorities: bundle.jwtAuthorities.size, ignored },
      'bundle loaded',
    );
    return true;
  }

  private failed(td: string, path: string, problem: string): boolean {
    this.loads.labels(td, 'failure').inc();
    const kept = this.bundles.has(td);
    this.up.labels(td).set(kept ? 1 : 0);
    this.options.logger.error({ trustDomain: td, file: path, problem, keptLastGood: kept }, 'bundle load failed');
    return false;
  }

  private watch(td: string, path: string): void {
    const pollMs = this.options.pollMs ?? 1000;
    if (pollMs <= 0) return;
    // Polling stat() follows symlinks, so Kubernetes' atomic ConfigMap/Secret swaps are seen too.
    watchFile(path, { interval: pollMs, persistent: false }, (curr: Stats, prev: Stats) => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
      void this.reload(td);
    });
  }

  private unwatch(path: string): void {
    unwatchFile(path);
  }
}

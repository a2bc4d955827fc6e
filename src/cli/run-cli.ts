// The `spiffe-ext-authz` command: serve, validate. Returns the process exit code.
import { setFlagsFromString } from 'node:v8';
import { parseArgs } from 'node:util';
import { ConfigLoadError, startApp } from '../app.js';
import { formatIssues } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { defaultConfigPath } from './paths.js';

const USAGE = `Usage: spiffe-ext-authz <command> [options]

Commands:
  serve [--config FILE]    serve ext_authz gRPC and admin HTTP (default command);
                           SIGHUP or a change of the file reloads the config
  validate [FILE]          check a config file; prints every error with its key path
  demo-pki --out DIR [--trust-domain TD]   write a throwaway demo CA and SVIDs (examples only)

Config file: --config, else $SPIFFE_AUTHZ_CONFIG, else the bundled config/default.yaml.
`;

/** Output sinks, injectable for tests. */
export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const stdio: CliIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : t + '\n'),
};

function resolveConfig(flag: string | undefined, positional: string | undefined): string {
  return flag ?? positional ?? process.env['SPIFFE_AUTHZ_CONFIG'] ?? defaultConfigPath();
}

/** Runs the CLI; `serve` resolves only when the server has stopped after a signal. */
export async function runCli(argv: readonly string[], io: CliIo = stdio): Promise<number> {
  // demo-pki has its own options; the common parser below would reject them as unknown.
  // Loaded only for this command: it issues certificates with @peculiar/x509, which `serve` never needs.
  if (argv[0] === 'demo-pki') return (await import('./demo-pki.js')).runDemoPki(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command = 'serve', arg] = parsed.positionals;
  if (parsed.values.help === true || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  const configPath = resolveConfig(parsed.values.config, arg);
  if (command === 'validate') {
    const result = await loadConfigFile(configPath);
    if (!result.ok) {
      io.err(`${configPath}: invalid\n${formatIssues(result.issues)}`);
      return 1;
    }
    io.out(`${configPath}: ok (${result.value.routes.length} routes, ${result.value.trustDomains.size} trust domains)`);
    return 0;
  }
  if (command === 'serve') return serve(configPath, io);
  io.err(`unknown command "${command}"\n\n${USAGE}`);
  return 2;
}

/** V8's old-generation growing factor while serving, as a percent over the live size (see tuneHeap). */
const SERVE_HEAP_GROWING_PERCENT = 130;

/**
 * Under load, grpc-js and node's http2 promote short-lived call state to the old generation: ~45 KB
 * per scavenge most of the time, and ~2 MB per scavenge for stretches of a second or more after
 * some full collections (measured with --trace-gc-nvp, in the empty grpc-js server as in this one).
 * V8 lets the old generation grow to up to 4x what was live after its last full collection before it
 * collects again; with a 1,000-route policy live (~20 MB) that garbage is held in RSS. A growing
 * factor of 2.3 keeps the peak under load at 1.15-1.25x an empty grpc-js server's (bench, 1,000 ×
 * 10,000 policy: 183 MB at 150 %, 174 MB at 130 %, 170 MB at 120 %, 160 MB at 100 %; throughput
 * fell at 100 %). An operator's own --heap-growing-percent (node flag or NODE_OPTIONS) wins; 0
 * turns this off.
 */
function tuneHeap(env: Readonly<Record<string, string | undefined>>): void {
  const own = [...process.execArgv, env['NODE_OPTIONS'] ?? ''].some((a) => a.includes('heap-growing-percent') || a.includes('heap_growing_percent'));
  const raw = env['SPIFFE_AUTHZ_HEAP_GROWING_PERCENT'];
  const percent = raw === undefined || raw === '' ? SERVE_HEAP_GROWING_PERCENT : Number(raw);
  if (own || !Number.isFinite(percent) || percent <= 0) return;
  setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}

async function serve(configPath: string, io: CliIo): Promise<number> {
  tuneHeap(process.env);
  let app;
  try {
    app = await startApp({ configPath });
  } catch (e) {
    if (e instanceof ConfigLoadError) io.err(`${e.source}: invalid config\n${formatIssues(e.issues)}`);
    else io.err(`cannot start: ${(e as Error).message}`);
    return 1;
  }
  const running = app;
  // SIGHUP reloads the config (as a file change and POST /v1/reload do); a bad file keeps the running one.
  const onHangup = (): void => {
    void running.reload('signal');
  };
  process.on('SIGHUP', onHangup);
  return new Promise<number>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        io.err(`${signal} again: exiting now`);
        process.exit(1);
      }
      signalled = true;
      process.off('SIGHUP', onHangup);
      running.logger.info({ signal }, 'shutting down');
      // Exit within 5 s whatever happens (the gRPC grace period is 4 s).
      setTimeout(() => process.exit(1), 5000).unref();
      const finish = (code: number): void => {
        // A log write to a stdout that never drains would keep the process alive: give the log a
        // second to drain, then exit anyway (a healthy process has exited by then on its own).
        setTimeout(() => process.exit(code), 1000).unref();
        resolve(code);
      };
      running.stop().then(
        () => finish(0),
        () => finish(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

// The `spiffe-ext-authz` command: serve, validate. Returns the process exit code.
import { parseArgs } from 'node:util';
import { ConfigLoadError, DEFAULT_PROCESS_METRICS_DELAY_MS, startApp } from '../app.js';
import { formatIssues } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { tuneHeap } from './heap-tuning.js';
import { holdOptimizer } from './startup-tiering.js';
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
    // One read of the config and the process ends: optimized code would arrive too late to help.
    const release = holdOptimizer({ serving: false });
    let result;
    try {
      result = await loadConfigFile(configPath);
    } finally {
      release();
    }
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

async function serve(configPath: string, io: CliIo): Promise<number> {
  const heap = tuneHeap(process.env);
  // TurboFan waits until SERVING: start-up code runs once, the Check path is what it is for.
  const release = holdOptimizer({ serving: true });
  let app;
  try {
    app = await startApp({ configPath });
  } catch (e) {
    if (e instanceof ConfigLoadError) io.err(`${e.source}: invalid config\n${formatIssues(e.issues)}`);
    else io.err(`cannot start: ${(e as Error).message}`);
    return 1;
  } finally {
    release();
  }
  // The heap factor follows the live heap from a moment after SERVING (see tuneHeap).
  setTimeout(() => heap.follow(), DEFAULT_PROCESS_METRICS_DELAY_MS).unref();
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

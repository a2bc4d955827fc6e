#!/usr/bin/env node
// Process entry: run the CLI and exit with its code. Nothing else lives here.
import { runCli } from './cli/run-cli.js';

process.exitCode = await runCli(process.argv.slice(2));

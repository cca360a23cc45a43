#!/usr/bin/env node
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
// The machine has stopped: do not wait for stdin or timers of host backends.
process.exit();

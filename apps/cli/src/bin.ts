#!/usr/bin/env node
import { tuneEngineForGuests } from '@typevisor/vm-driver/node';
import { main } from './main.js';

// This process runs guests (in this thread, or in the VM manager's workers): let V8 optimise the
// guest code cpu-x86 compiles at run time sooner (vm-driver/node engine-tuning.ts says why).
tuneEngineForGuests();
process.exitCode = await main(process.argv.slice(2));
// The machine has stopped: do not wait for stdin or timers of host backends.
process.exit();

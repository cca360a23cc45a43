/**
 * The entry module of a VM's worker thread: one real machine per worker, spoken to only through the
 * protocol. `VmManager` starts this file by default.
 *
 * @packageDocumentation
 */
import { machineDriverFactory } from './worker/machine-driver.js';
import { runDriverWorker } from './worker/run-driver-worker.js';

runDriverWorker(machineDriverFactory);

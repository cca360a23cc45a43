/**
 * Many VMs, each machine in its own worker: lifecycle, snapshots, consoles, inter-VM networking and
 * the HTTP APIs.
 *
 * @packageDocumentation
 */
export { ConsoleHub, SCROLLBACK_BYTES } from './console-hub.js';
export type { ConsoleSession } from './console-hub.js';
export { VmManager, WORKER_HEAP_MIB, WORKER_OVERHEAD_MIB } from './manager.js';
export type { ManagerListener, VmManagerOptions } from './manager.js';
export { SNAPSHOT_FORMAT_VERSION, decodeSnapshot, encodeSnapshot, readSnapshotConfig } from './snapshot/snapshot-file.js';
export type { SnapshotContent } from './snapshot/snapshot-file.js';
export { CONSOLE_UPGRADE, createManagerApiServer } from './api/manager-api.js';
export { FIRECRACKER_API_VERSION, createFirecrackerApiServer } from './api/firecracker-api.js';
export type { FirecrackerApiOptions } from './api/firecracker-api.js';
export { MAX_BODY_BYTES } from './api/http-io.js';
export { managerOpenApi } from './api/openapi.js';
export { ActionRequestSchema, CreateVmRequestSchema, RestoreRequestSchema, SnapshotRequestSchema } from './api/requests.js';
export { runDriverWorker } from './worker/run-driver-worker.js';
export type { DriverWorkerData } from './worker/run-driver-worker.js';
export type { DriverEvent, DriverFactory, FramePort, VmDriverPort } from './worker/vm-driver-port.js';

/**
 * Firecracker's REST API for one microVM, served by typevisor so tools written for Firecracker run
 * unmodified on hosts without KVM. Requests are validated as strictly as Firecracker does (unknown
 * fields are refused); every error is a 4xx with `{ "fault_message": "..." }`, and a refused request
 * changes nothing. The guest's serial console is the process's stdout (the caller wires it).
 *
 * Deviations, documented in docs/quirks.md: one vCPU only; rate limiters, cache types and io
 * engines are accepted and ignored; a snapshot is one self-contained file at `snapshot_path`
 * (`mem_file_path` / `mem_backend` are accepted and not written separately).
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import * as v from 'valibot';
import { MAX_MEMORY_MIB, MIN_MEMORY_MIB, VmError, parseWith, type VmConfig } from '@typevisor/vm-protocol';
import type { VmManager } from '../manager.js';
import { readJsonBody } from './http-io.js';

/** The Firecracker API version typevisor answers for. */
export const FIRECRACKER_API_VERSION = '1.10.0';

const path = v.pipe(v.string(), v.minLength(1), v.maxLength(4096));
const id = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_]{1,64}$/, 'ids are 1-64 letters, digits or _'));
const rateLimiter = v.optional(v.nullable(v.record(v.string(), v.unknown())));

const BootSource = v.strictObject({ kernel_image_path: path, boot_args: v.optional(v.pipe(v.string(), v.maxLength(4096))), initrd_path: v.optional(path) });
const Drive = v.strictObject({
  drive_id: id, path_on_host: path, is_root_device: v.boolean(), is_read_only: v.optional(v.boolean()), partuuid: v.optional(v.string()),
  cache_type: v.optional(v.picklist(['Unsafe', 'Writeback'])), io_engine: v.optional(v.picklist(['Sync', 'Async'])), rate_limiter: rateLimiter, socket: v.optional(v.string()),
});
const MachineConfigBody = v.strictObject({
  vcpu_count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(32)),
  mem_size_mib: v.pipe(v.number(), v.integer(), v.minValue(1)),
  smt: v.optional(v.boolean()), track_dirty_pages: v.optional(v.boolean()),
  cpu_template: v.optional(v.picklist(['C3', 'T2', 'T2S', 'T2CL', 'T2A', 'V1N1', 'None'])), huge_pages: v.optional(v.picklist(['None', '2M'])),
});
const MachineConfigPatch = v.strictObject({ ...v.partial(MachineConfigBody).entries });
const NetworkInterface = v.strictObject({
  iface_id: id, host_dev_name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'host_dev_name names the typevisor switch: 1-64 letters, digits, - or _')),
  guest_mac: v.optional(v.pipe(v.string(), v.regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'guest_mac is six hex pairs'))), rx_rate_limiter: rateLimiter, tx_rate_limiter: rateLimiter,
});
const Action = v.strictObject({ action_type: v.picklist(['InstanceStart', 'SendCtrlAltDel', 'FlushMetrics']) });
const VmStateBody = v.strictObject({ state: v.picklist(['Paused', 'Resumed']) });
const SnapshotCreate = v.strictObject({ snapshot_type: v.optional(v.picklist(['Full', 'Diff'])), snapshot_path: path, mem_file_path: path, version: v.optional(v.string()) });
const SnapshotLoad = v.strictObject({
  snapshot_path: path, mem_file_path: v.optional(path), mem_backend: v.optional(v.strictObject({ backend_type: v.picklist(['File', 'Uffd']), backend_path: path })),
  enable_diff_snapshots: v.optional(v.boolean()), track_dirty_pages: v.optional(v.boolean()), resume_vm: v.optional(v.boolean()),
});
const Logger = v.strictObject({ log_path: v.optional(path), level: v.optional(v.picklist(['Error', 'Warning', 'Info', 'Debug', 'Trace', 'Off'])), show_level: v.optional(v.boolean()), show_log_origin: v.optional(v.boolean()), module: v.optional(v.string()) });
const Metrics = v.strictObject({ metrics_path: path });

/** Raised for a request Firecracker would refuse; answered as 400 with `fault_message`. */
class Fault extends Error {}

/** Options of {@link createFirecrackerApiServer}. */
export interface FirecrackerApiOptions {
  readonly manager: VmManager;
  /** The microVM's id (`--id`), default `anonymous-instance`. */
  readonly instanceId?: string;
  /** Receives guest console output (the CLI writes it to stdout). */
  readonly onConsoleOutput?: (bytes: Uint8Array) => void;
}

type Phase = 'Not started' | 'Running' | 'Paused';

/** Creates the HTTP server (listen on the `--api-sock` path). */
export function createFirecrackerApiServer(options: FirecrackerApiOptions): Server {
  const { manager } = options;
  const vmId = (options.instanceId ?? 'anonymous-instance').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  let phase: Phase = 'Not started';
  let bootSource: v.InferOutput<typeof BootSource> | null = null;
  let machineConfig: v.InferOutput<typeof MachineConfigBody> = { vcpu_count: 1, mem_size_mib: 128, smt: false, track_dirty_pages: false };
  const drives = new Map<string, v.InferOutput<typeof Drive>>();
  const nets = new Map<string, v.InferOutput<typeof NetworkInterface>>();
  let logPath: string | null = null;
  let metricsPath: string | null = null;

  const log = (line: string) => {
    if (logPath) appendFileSync(logPath, `${new Date().toISOString()} [typevisor:${vmId}] ${line}\n`);
  };
  manager.onEvent((vm, event) => {
    if (vm !== vmId || event.name === 'console') return;
    log(`${event.name} ${JSON.stringify(event)}`);
    if (event.name === 'stateChanged' && (event.to === 'stopped' || event.to === 'failed')) phase = 'Not started';
  });

  const preBoot = (what: string) => {
    if (phase !== 'Not started') throw new Fault(`The requested operation is not supported after starting the microVM: ${what}.`);
  };
  const body = async <S extends v.GenericSchema>(schema: S, request: IncomingMessage): Promise<v.InferOutput<S>> => {
    try {
      return parseWith(schema, await readJsonBody(request));
    } catch (error) {
      throw new Fault(error instanceof Error ? error.message : String(error));
    }
  };
  const vmConfig = (): VmConfig => {
    if (!bootSource) throw new Fault('Cannot start microvm without kernel configuration: PUT /boot-source first.');
    if (machineConfig.vcpu_count !== 1) throw new Fault(`typevisor emulates one vCPU; vcpu_count ${machineConfig.vcpu_count} is not supported.`);
    if (machineConfig.mem_size_mib < MIN_MEMORY_MIB || machineConfig.mem_size_mib > MAX_MEMORY_MIB) {
      throw new Fault(`mem_size_mib must be between ${MIN_MEMORY_MIB} and ${MAX_MEMORY_MIB} for an i686 guest.`);
    }
    const ordered = [...drives.values()].sort((a, b) => Number(b.is_root_device) - Number(a.is_root_device));
    const config: VmConfig = {
      memoryMiB: machineConfig.mem_size_mib,
      kernel: bootSource.kernel_image_path,
      disks: ordered.map((d) => ({ path: d.path_on_host, readOnly: d.is_read_only ?? false })),
      nets: [...nets.values()].map((n) => (n.guest_mac ? { switch: n.host_dev_name, mac: n.guest_mac.toLowerCase() } : { switch: n.host_dev_name })),
    };
    if (bootSource.boot_args !== undefined) config.cmdline = bootSource.boot_args;
    if (bootSource.initrd_path !== undefined) config.initrd = bootSource.initrd_path;
    return config;
  };
  const attachConsole = () => {
    if (options.onConsoleOutput) manager.attachConsole(vmId, options.onConsoleOutput, { write: false });
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://firecracker');
    const method = request.method ?? 'GET';
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const key = `${method} /${parts[0] ?? ''}`;
    const ok = (): void => void response.writeHead(204).end();
    const json = (value: unknown) => {
      const text = JSON.stringify(value);
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    };
    switch (parts.length <= 2 ? key : '') {
      case 'GET /':
        if (parts.length) break;
        return json({ id: vmId, state: phase, vmm_version: FIRECRACKER_API_VERSION, app_name: 'typevisor' });
      case 'GET /version':
        return json({ firecracker_version: FIRECRACKER_API_VERSION });
      case 'GET /machine-config':
        return json(machineConfig);
      case 'PUT /machine-config': {
        const next = await body(MachineConfigBody, request);
        preBoot('machine configuration');
        machineConfig = { smt: false, track_dirty_pages: false, ...next };
        return ok();
      }
      case 'PATCH /machine-config': {
        const patch = await body(MachineConfigPatch, request);
        preBoot('machine configuration');
        machineConfig = { ...machineConfig, ...Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) };
        return ok();
      }
      case 'PUT /boot-source': {
        const next = await body(BootSource, request);
        preBoot('boot source');
        bootSource = next;
        return ok();
      }
      case 'PUT /drives': {
        if (parts.length !== 2) break;
        const drive = await body(Drive, request);
        if (drive.drive_id !== parts[1]) throw new Fault(`The id from the path (${parts[1]}) does not match the id from the body (${drive.drive_id}).`);
        preBoot('drive configuration');
        if (drive.is_root_device && [...drives.values()].some((d) => d.is_root_device && d.drive_id !== drive.drive_id)) {
          throw new Fault('A root block device already exists!');
        }
        drives.set(drive.drive_id, drive);
        return ok();
      }
      case 'PUT /network-interfaces': {
        if (parts.length !== 2) break;
        const nic = await body(NetworkInterface, request);
        if (nic.iface_id !== parts[1]) throw new Fault(`The id from the path (${parts[1]}) does not match the id from the body (${nic.iface_id}).`);
        preBoot('network interface configuration');
        nets.set(nic.iface_id, nic);
        return ok();
      }
      case 'PUT /logger': {
        const logger = await body(Logger, request);
        logPath = logger.log_path ?? null;
        if (logPath) writeFileSync(logPath, '', { flag: 'a' });
        log('logger configured');
        return ok();
      }
      case 'PUT /metrics': {
        metricsPath = (await body(Metrics, request)).metrics_path;
        writeFileSync(metricsPath, '', { flag: 'a' });
        return ok();
      }
      case 'PUT /actions': {
        const { action_type } = await body(Action, request);
        if (action_type === 'InstanceStart') {
          preBoot('InstanceStart');
          const config = vmConfig();
          try {
            await manager.create(vmId, config);
            attachConsole();
            await manager.start(vmId);
          } catch (error) {
            await manager.delete(vmId).catch(() => undefined);
            throw new Fault(`Failed to start microVM: ${(error as Error).message}`);
          }
          phase = 'Running';
          log('InstanceStart');
          return ok();
        }
        if (action_type === 'SendCtrlAltDel') {
          if (phase !== 'Running') throw new Fault('SendCtrlAltDel needs a running microVM.');
          await manager.sendCtrlAltDel(vmId);
          return ok();
        }
        if (metricsPath) appendFileSync(metricsPath, `${JSON.stringify({ utc_timestamp_ms: Date.now(), vm: phase === 'Not started' ? null : manager.inspect(vmId) })}\n`);
        return ok();
      }
      case 'PATCH /vm': {
        const { state } = await body(VmStateBody, request);
        if (phase === 'Not started') throw new Fault('The microVM is not running.');
        if (state === 'Paused') {
          if (phase === 'Running') await manager.pause(vmId);
          phase = 'Paused';
        } else {
          if (phase === 'Paused') await manager.resume(vmId);
          phase = 'Running';
        }
        return ok();
      }
      case 'GET /vm':
        if (parts[1] !== 'config') break;
        return json({
          'boot-source': bootSource, drives: [...drives.values()], 'machine-config': machineConfig, 'network-interfaces': [...nets.values()],
        });
      case 'PUT /snapshot': {
        if (parts[1] === 'create') {
          const request_ = await body(SnapshotCreate, request);
          if (phase !== 'Paused') throw new Fault('Cannot create a snapshot of a microVM that is not paused: PATCH /vm {"state":"Paused"} first.');
          await manager.snapshot(vmId, request_.snapshot_path);
          log(`snapshot written to ${request_.snapshot_path}`);
          return ok();
        }
        if (parts[1] === 'load') {
          const load = await body(SnapshotLoad, request);
          preBoot('snapshot load');
          await manager.restore(vmId, load.snapshot_path);
          attachConsole();
          phase = 'Paused';
          if (load.resume_vm) {
            await manager.resume(vmId);
            phase = 'Running';
          }
          return ok();
        }
        break;
      }
    }
    throw new Fault(`Invalid request method and/or path: ${method} ${url.pathname}.`);
  }

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const server = !(error instanceof Fault) && !(error instanceof VmError && error.code !== 'internal');
      const text = JSON.stringify({ fault_message: error instanceof Error ? error.message : String(error) });
      if (!response.headersSent) response.writeHead(server ? 500 : 400, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
    });
  });
}

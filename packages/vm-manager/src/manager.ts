/**
 * The VM manager: many VMs, each machine in its own worker thread, controlled only through the
 * protocol. A guest that spins, faults or kills its worker changes only its own VM's state.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
// typevisor-allow-import: the inter-VM switch is the devices package's NetworkSwitch, run here in the manager so frames can cross workers
import { NetworkSwitch } from '@typevisor/devices';
import {
  MessagePortTransport, ProtocolClient, VmConfigSchema, VmError, VmIdSchema, decodeBase64, encodeBase64, nextState,
  parseWith, type Command, type LifecycleAction, type VmConfig, type VmEvent, type VmInfo, type VmState,
} from '@typevisor/vm-protocol';
import { ConsoleHub, type ConsoleSession } from './console-hub.js';
import { readSnapshotConfig } from './snapshot/snapshot-file.js';
import type { DriverWorkerData } from './worker/run-driver-worker.js';

/** Host memory a VM's worker needs beyond guest RAM: its JS heap cap plus code and buffers. */
export const WORKER_HEAP_MIB = 96;
/** @see WORKER_HEAP_MIB */
export const WORKER_OVERHEAD_MIB = WORKER_HEAP_MIB + 32;

/** Manager options. */
export interface VmManagerOptions {
  /** The worker entry module (default: this package's built `driver-worker.js`). */
  readonly workerUrl?: URL | string;
  /** Host memory all VMs together may use, in MiB (guest RAM + {@link WORKER_OVERHEAD_MIB} each). */
  readonly hostMemoryMiB?: number;
  /** How long a VM gets to stop cleanly before its worker is terminated (default 500 ms). */
  readonly stopTimeoutMs?: number;
  /** How long any other command may take (default 30 s). */
  readonly commandTimeoutMs?: number;
}

interface ManagedVm {
  readonly id: string;
  config: VmConfig;
  state: VmState;
  failure?: string;
  worker: Worker | null;
  client: ProtocolClient | null;
  transport: MessagePortTransport | null;
  readonly console: ConsoleHub;
  readonly netPorts: MessagePort[];
  readonly unplug: (() => void)[];
  /** Serializes operations on this VM so concurrent requests see a consistent state. */
  queue: Promise<unknown>;
  runningSince: number | null;
  uptimeMs: number;
  expectingExit: boolean;
  /** Why the worker died, when it did. */
  deathReason: string | null;
}

/** A manager event: a VM id and what happened to it. */
export type ManagerListener = (vm: string, event: VmEvent) => void;

/** Creates and controls VMs. */
export class VmManager {
  readonly #vms = new Map<string, ManagedVm>();
  readonly #switches = new Map<string, NetworkSwitch>();
  readonly #listeners = new Set<ManagerListener>();
  /** Creations (create or restore) in flight, by VM id: a second one for the id waits for the first. */
  readonly #creating = new Map<string, Promise<unknown>>();
  #macCounter = 0;
  readonly #workerUrl: URL | string;
  readonly #budgetMiB: number;
  readonly #stopTimeoutMs: number;
  readonly #commandTimeoutMs: number;

  constructor(options: VmManagerOptions = {}) {
    this.#workerUrl = options.workerUrl ?? new URL('./driver-worker.js', import.meta.url);
    const url = this.#workerUrl instanceof URL ? this.#workerUrl : new URL(this.#workerUrl, 'file:///');
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      throw new VmError('internal', `the VM worker module ${fileURLToPath(url)} does not exist: use the built package (its dist holds driver-worker.js), or pass workerUrl`);
    }
    this.#budgetMiB = options.hostMemoryMiB ?? 8192;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 500;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
  }

  /** Subscribes to every VM's events (state changes, console output, faults, worker deaths). */
  onEvent(listener: ManagerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Host memory committed to existing VMs, in MiB. */
  get committedMemoryMiB(): number {
    let total = 0;
    for (const vm of this.#vms.values()) if (vm.worker) total += vm.config.memoryMiB + WORKER_OVERHEAD_MIB;
    return total;
  }

  /** Every VM, as seen from outside. */
  list(): VmInfo[] {
    return [...this.#vms.values()].map((vm) => this.#info(vm));
  }

  /** One VM; `not_found` if there is none. */
  inspect(id: string): VmInfo {
    return this.#info(this.#get(id));
  }

  /** Creates a VM from a configuration (validated here) in the `created` state. */
  async create(id: string, config: unknown): Promise<VmInfo> {
    parseWith(VmIdSchema, id);
    const valid = this.#withMacs(parseWith(VmConfigSchema, config));
    return this.#creation(id, async (vm) => {
      await this.#request(vm, { name: 'create', config: valid });
    }, valid);
  }

  /**
   * Creates VM `id` from a snapshot file; it starts `paused` where the snapshot was taken, with the
   * configuration saved in the snapshot (memory, disks, NICs). The whole file is verified in the
   * VM's worker before anything is restored.
   */
  async restore(id: string, path: string): Promise<VmInfo> {
    parseWith(VmIdSchema, id);
    return this.#creation(id, async (vm) => {
      await this.#request(vm, { name: 'snapshotRestore', path });
      this.#setState(vm, 'paused');
    }, () => readSnapshotConfig(path));
  }

  /**
   * Gives every NIC without a MAC address a unique one, so that guests on one switch can tell each
   * other apart (two NICs with one MAC would make the switch drop their frames). Locally
   * administered addresses 02:74:76:xx:xx:xx ("tv"), counted per manager.
   */
  #withMacs(config: VmConfig): VmConfig {
    if (!config.nets?.some((n) => n.mac === undefined)) return config;
    const nets = config.nets.map((nic) => {
      if (nic.mac !== undefined) return nic;
      const n = ++this.#macCounter;
      const mac = [0x02, 0x74, 0x76, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff].map((b) => b.toString(16).padStart(2, '0')).join(':');
      return { ...nic, mac };
    });
    return { ...config, nets };
  }

  /**
   * Brings VM `id` into existence: waits for any creation of the same id already in flight (so two
   * concurrent creations behave as if one ran after the other), spawns the worker, and removes the
   * VM again if `initialize` fails — a failed creation leaves nothing behind.
   */
  async #creation(id: string, initialize: (vm: ManagedVm) => Promise<void>, config: VmConfig | (() => VmConfig)): Promise<VmInfo> {
    for (let pending = this.#creating.get(id); pending; pending = this.#creating.get(id)) await pending.catch(() => undefined);
    if (this.#vms.has(id)) throw new VmError('already_exists', `a VM named ${id} already exists; delete it or choose another id`);
    const vm = this.#spawn(id, typeof config === 'function' ? config() : config);
    const done = this.#enqueue(vm, async () => {
      try {
        await initialize(vm);
      } catch (error) {
        vm.expectingExit = true;
        this.#destroy(vm);
        const reason = vm.deathReason;
        throw reason !== null && VmError.from(error).code === 'transport_closed' ? new VmError('internal', `the VM's worker failed: ${reason}`) : VmError.from(error);
      }
      return this.#info(vm);
    });
    this.#creating.set(id, done);
    try {
      return await done;
    } finally {
      if (this.#creating.get(id) === done) this.#creating.delete(id);
    }
  }

  /** Starts a created VM. */
  async start(id: string): Promise<VmInfo> {
    return this.#lifecycle(id, 'start');
  }

  /** Pauses a running VM: its vCPU and its guest clock stop. */
  async pause(id: string): Promise<VmInfo> {
    return this.#lifecycle(id, 'pause');
  }

  /** Resumes a paused VM. */
  async resume(id: string): Promise<VmInfo> {
    return this.#lifecycle(id, 'resume');
  }

  /** Reboots a running or paused VM. */
  async reboot(id: string): Promise<VmInfo> {
    return this.#lifecycle(id, 'reboot');
  }

  /**
   * Stops a VM. A VM that does not stop within the stop timeout (a wedged guest or worker) has its
   * worker terminated; either way it is `stopped` when this resolves.
   */
  async stop(id: string): Promise<VmInfo> {
    const vm = this.#get(id);
    return this.#enqueue(vm, async () => {
      if (!nextState(vm.state, 'stop')) throw new VmError('invalid_state', `stop is not allowed while VM ${id} is ${vm.state}`);
      vm.expectingExit = true;
      try {
        await this.#request(vm, { name: 'stop' }, this.#stopTimeoutMs);
      } catch {
        // Wedged or already gone: terminating the worker is the stop.
      }
      this.#destroyWorker(vm);
      this.#setState(vm, 'stopped');
      return this.#info(vm);
    });
  }

  /** Deletes a VM in any state, terminating its worker. */
  async delete(id: string): Promise<void> {
    const vm = this.#get(id);
    return this.#enqueue(vm, async () => {
      vm.expectingExit = true;
      this.#destroy(vm);
    });
  }

  /** Writes a snapshot of a paused VM to `path`. */
  async snapshot(id: string, path: string): Promise<{ path: string; bytes: number }> {
    const vm = this.#get(id);
    return this.#enqueue(vm, async () => {
      if (vm.state !== 'paused') throw new VmError('invalid_state', `snapshotCreate is not allowed while VM ${id} is ${vm.state}; pause it first`);
      return (await this.#request(vm, { name: 'snapshotCreate', path })) as { path: string; bytes: number };
    });
  }

  /** Sends Ctrl-Alt-Del to a running guest (i8042 reset request). */
  async sendCtrlAltDel(id: string): Promise<void> {
    const vm = this.#get(id);
    return this.#enqueue(vm, async () => {
      if (vm.state !== 'running') throw new VmError('invalid_state', `sendCtrlAltDel is not allowed while VM ${id} is ${vm.state}`);
      await this.#request(vm, { name: 'sendCtrlAltDel' });
    });
  }

  /** Attaches to a VM's console: every reader sees all output; one session at a time may write. */
  attachConsole(id: string, onOutput: (bytes: Uint8Array) => void, options: { write?: boolean; replay?: boolean } = {}): ConsoleSession {
    return this.#get(id).console.attach(onOutput, options);
  }

  /** Terminates every VM. */
  async shutdown(): Promise<void> {
    for (const vm of [...this.#vms.values()]) {
      vm.expectingExit = true;
      this.#destroy(vm);
    }
  }

  #get(id: string): ManagedVm {
    const vm = this.#vms.get(id);
    if (!vm) throw new VmError('not_found', `no VM named ${id}`);
    return vm;
  }

  #info(vm: ManagedVm): VmInfo {
    const uptime = vm.uptimeMs + (vm.runningSince === null ? 0 : Date.now() - vm.runningSince);
    const info: VmInfo = { id: vm.id, state: vm.state, config: vm.config, uptimeMs: uptime, instructions: 0 };
    return vm.failure === undefined ? info : { ...info, failure: vm.failure };
  }

  #enqueue<T>(vm: ManagedVm, operation: () => Promise<T>): Promise<T> {
    // A queued operation may outlive its VM (a create or restore ahead of it failed, or a delete ran):
    // then the VM never existed as far as this operation is concerned.
    const guarded = () => {
      if (this.#vms.get(vm.id) !== vm) return Promise.reject(new VmError('not_found', `no VM named ${vm.id}`));
      return operation();
    };
    const result = vm.queue.then(guarded, guarded);
    vm.queue = result.catch(() => undefined);
    return result;
  }

  #lifecycle(id: string, action: LifecycleAction): Promise<VmInfo> {
    const vm = this.#get(id);
    return this.#enqueue(vm, async () => {
      const to = nextState(vm.state, action);
      if (!to) throw new VmError('invalid_state', `${action} is not allowed while VM ${id} is ${vm.state}`);
      await this.#request(vm, { name: action });
      this.#setState(vm, to);
      return this.#info(vm);
    });
  }

  async #request(vm: ManagedVm, command: Command, timeoutMs = this.#commandTimeoutMs): Promise<unknown> {
    if (!vm.client) throw new VmError('invalid_state', `VM ${vm.id} has no running worker (it is ${vm.state})`);
    return vm.client.request(vm.id, command, { timeoutMs });
  }

  #setState(vm: ManagedVm, to: VmState, reason?: string): void {
    const from = vm.state;
    if (to === 'running' && vm.runningSince === null) vm.runningSince = Date.now();
    if (to !== 'running' && vm.runningSince !== null) {
      vm.uptimeMs += Date.now() - vm.runningSince;
      vm.runningSince = null;
    }
    vm.state = to;
    if (reason !== undefined) vm.failure = reason;
    this.#emit(vm, reason === undefined ? { name: 'stateChanged', from, to } : { name: 'stateChanged', from, to, reason });
  }

  #emit(vm: ManagedVm, event: VmEvent): void {
    for (const listener of [...this.#listeners]) listener(vm.id, event);
  }

  #spawn(id: string, config: VmConfig): ManagedVm {
    const cost = config.memoryMiB + WORKER_OVERHEAD_MIB;
    if (this.committedMemoryMiB + cost > this.#budgetMiB) {
      throw new VmError('resource_exhausted', `VM ${id} needs ${cost} MiB of host memory but only ${this.#budgetMiB - this.committedMemoryMiB} MiB of the ${this.#budgetMiB} MiB budget is free`);
    }
    const netPorts: MessagePort[] = [];
    const unplug: (() => void)[] = [];
    for (const nic of config.nets ?? []) {
      const channel = new MessageChannel();
      let lan = this.#switches.get(nic.switch);
      if (!lan) {
        lan = new NetworkSwitch();
        this.#switches.set(nic.switch, lan);
      }
      const port = lan.connect(`${id}`);
      port.setReceiver((frame) => channel.port2.postMessage(frame));
      channel.port2.on('message', (frame: unknown) => {
        if (frame instanceof Uint8Array) port.send(frame);
      });
      netPorts.push(channel.port1);
      unplug.push(() => {
        port.disconnect();
        channel.port2.close();
      });
    }
    const data: DriverWorkerData = { vmId: id, netPorts, maxMemoryBytes: config.memoryMiB * 1024 * 1024 * 4 };
    const worker = new Worker(this.#workerUrl, {
      workerData: data,
      transferList: netPorts,
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MIB, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    const transport = new MessagePortTransport(worker);
    const client = new ProtocolClient(transport);
    const vm: ManagedVm = {
      id,
      config,
      state: 'created',
      worker,
      client,
      transport,
      console: new ConsoleHub((bytes) => {
        void this.#request(vm, { name: 'consoleInput', data: encodeBase64(bytes) }).catch(() => undefined);
      }),
      netPorts,
      unplug,
      queue: Promise.resolve(),
      runningSince: null,
      uptimeMs: 0,
      expectingExit: false,
      deathReason: null,
    };
    client.onEvent((_vm, event) => this.#fromWorker(vm, event));
    worker.on('error', (error) => this.#workerDied(vm, `worker error: ${error.message}`));
    worker.on('exit', (code) => this.#workerDied(vm, `worker exited with code ${code}`));
    this.#vms.set(id, vm);
    return vm;
  }

  #fromWorker(vm: ManagedVm, event: VmEvent): void {
    switch (event.name) {
      case 'console':
        vm.console.publish(decodeBase64(event.data));
        break;
      case 'exited':
        this.#emit(vm, event);
        if (vm.state !== 'stopped') this.#setState(vm, 'stopped', `guest exited with code ${event.code}`);
        break;
      case 'tripleFault':
        this.#emit(vm, event);
        this.#setState(vm, 'failed', `triple fault at EIP ${event.eip.toString(16)}`);
        break;
      case 'workerDied':
        this.#emit(vm, event);
        this.#setState(vm, 'failed', event.message);
        break;
      default:
        this.#emit(vm, event);
    }
  }

  #workerDied(vm: ManagedVm, message: string): void {
    if (!vm.worker) return;
    vm.deathReason ??= message;
    this.#destroyWorker(vm);
    if (vm.expectingExit) return;
    this.#emit(vm, { name: 'workerDied', message });
    if (this.#vms.has(vm.id)) this.#setState(vm, 'failed', message);
  }

  #destroyWorker(vm: ManagedVm): void {
    const worker = vm.worker;
    vm.worker = null;
    vm.client = null;
    vm.transport?.disconnect();
    vm.transport = null;
    for (const unplug of vm.unplug.splice(0)) unplug();
    if (worker) void worker.terminate();
  }

  #destroy(vm: ManagedVm): void {
    this.#destroyWorker(vm);
    vm.console.close();
    this.#vms.delete(vm.id);
  }
}

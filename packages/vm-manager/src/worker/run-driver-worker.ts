/**
 * The body of a VM's worker: it speaks only the protocol to the manager, builds the machine through
 * a factory, and turns every machine event into a protocol event.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import {
  MessagePortTransport, VmError, decodeBase64, encodeBase64, sendEvent, serveCommands,
  MAX_CONSOLE_CHUNK_BYTES, type Command, type ReplyMessage, type VmConfig, type VmState,
} from '@typevisor/vm-protocol';
import { decodeSnapshot, encodeSnapshot } from '../snapshot/snapshot-file.js';
import type { DriverFactory, FramePort, VmDriverPort } from './vm-driver-port.js';

/** What the manager passes to a new worker. */
export interface DriverWorkerData {
  readonly vmId: string;
  readonly netPorts: readonly MessagePort[];
  readonly maxMemoryBytes: number;
}

function framePort(port: MessagePort): FramePort {
  let receiver: ((frame: Uint8Array) => void) | null = null;
  port.on('message', (frame: unknown) => {
    if (frame instanceof Uint8Array && receiver) receiver(frame);
  });
  return {
    send: (frame) => port.postMessage(frame),
    setReceiver: (r) => {
      receiver = r;
    },
  };
}

/** Runs the worker until the manager closes it. Call from the worker's entry module. */
export function runDriverWorker(factory: DriverFactory): void {
  if (!parentPort) throw new Error('runDriverWorker must run inside a worker thread');
  const data = workerData as DriverWorkerData;
  const transport = new MessagePortTransport(parentPort);
  const nets = data.netPorts.map(framePort);
  const vm = data.vmId;
  let driver: VmDriverPort | null = null;
  let state: VmState | null = null;
  let config: VmConfig | null = null;

  const attach = (d: VmDriverPort) => {
    d.onEvent((event) => {
      switch (event.kind) {
        case 'console':
          for (let i = 0; i < event.bytes.length; i += MAX_CONSOLE_CHUNK_BYTES) {
            sendEvent(transport, vm, { name: 'console', data: encodeBase64(event.bytes.subarray(i, i + MAX_CONSOLE_CHUNK_BYTES)) });
          }
          break;
        case 'exited':
          state = 'stopped';
          sendEvent(transport, vm, { name: 'exited', code: event.code });
          break;
        case 'tripleFault':
          state = 'failed';
          sendEvent(transport, vm, { name: 'tripleFault', eip: event.eip >>> 0 });
          break;
        case 'guestPanic':
          sendEvent(transport, vm, { name: 'guestPanic', message: event.message.slice(0, 4096) });
          break;
        case 'failed':
          state = 'failed';
          sendEvent(transport, vm, { name: 'workerDied', message: event.message.slice(0, 4096) });
          break;
      }
    });
    driver = d;
  };

  const need = (): VmDriverPort => {
    if (!driver) throw new VmError('invalid_state', 'the machine has not been created');
    return driver;
  };

  serveCommands(transport, {
    stateOf: (id) => (id === vm ? state : null),
    async handle(_id: string, command: Command): Promise<ReplyMessage['result']> {
      switch (command.name) {
        case 'create':
          config = command.config;
          attach(await factory(command.config, nets));
          state = 'created';
          return undefined;
        case 'snapshotRestore': {
          let bytes: Uint8Array;
          try {
            bytes = fs.readFileSync(command.path);
          } catch (error) {
            throw new VmError('not_found', `cannot read snapshot ${command.path}: ${(error as Error).message}`);
          }
          const content = decodeSnapshot(bytes, { maxMemoryBytes: data.maxMemoryBytes });
          config = content.config as VmConfig;
          attach(await factory(config, nets, content));
          state = 'paused';
          return undefined;
        }
        case 'start':
          need().start();
          state = 'running';
          return undefined;
        case 'pause':
          need().pause();
          state = 'paused';
          return undefined;
        case 'resume':
          need().resume();
          state = 'running';
          return undefined;
        case 'stop':
          need().stop();
          state = 'stopped';
          return undefined;
        case 'reboot':
          need().reboot();
          state = 'running';
          return undefined;
        case 'sendCtrlAltDel':
          need().sendCtrlAltDel();
          return undefined;
        case 'consoleInput':
          need().consoleInput(decodeBase64(command.data));
          return undefined;
        case 'consoleResize':
          need().resizeConsole(command.cols, command.rows);
          return undefined;
        case 'snapshotCreate': {
          const bytes = encodeSnapshot(need().snapshot());
          const temporary = `${command.path}.partial-${process.pid}-${Date.now()}`;
          fs.writeFileSync(temporary, bytes);
          fs.renameSync(temporary, command.path);
          return { path: command.path, bytes: bytes.length };
        }
        case 'inspect':
          return { id: vm, state: state ?? 'created', config: config ?? { memoryMiB: 16 }, uptimeMs: 0, instructions: need().instructionsRetired() };
        case 'delete':
          return undefined;
      }
    },
  });
}

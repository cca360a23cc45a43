/**
 * Request/response over a transport: the client side correlates replies with commands by id and
 * times them out; the server side validates each command, checks it is legal in the VM's current
 * state, runs the handler and answers with a reply or a typed error — a handler that throws never
 * takes the connection down.
 */
import { VmError } from './errors.js';
import type { Command, CommandMessage, EventMessage, Message, ReplyMessage, VmEvent } from './messages.js';
import { isLegal } from './messages.js';
import { PROTOCOL_VERSION } from './limits.js';
import type { VmState } from './states.js';
import type { Transport } from './transport.js';

/** Sends commands and awaits their replies; delivers events. */
export class ProtocolClient {
  readonly #transport: Transport;
  readonly #pending = new Map<number, { resolve: (r: ReplyMessage['result']) => void; reject: (e: VmError) => void; timer: ReturnType<typeof setTimeout> }>();
  readonly #eventListeners = new Set<(vm: string, event: VmEvent) => void>();
  #nextId = 1;

  constructor(transport: Transport) {
    this.#transport = transport;
    transport.onMessage((message) => this.#receive(message));
    transport.onClose(() => {
      for (const [id, pending] of this.#pending) {
        clearTimeout(pending.timer);
        pending.reject(new VmError('transport_closed', 'the connection closed before a reply arrived'));
        this.#pending.delete(id);
      }
    });
  }

  /** Sends `command` to VM `vm`; resolves with the reply's result, rejects with a `VmError`. */
  request(vm: string, command: Command, options: { timeoutMs?: number } = {}): Promise<ReplyMessage['result']> {
    const id = this.#nextId++;
    const timeoutMs = options.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new VmError('timeout', `no reply to ${command.name} for VM ${vm} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      try {
        this.#transport.send({ v: PROTOCOL_VERSION, type: 'command', id, vm, command });
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(VmError.from(error));
      }
    });
  }

  /** Subscribes to events from any VM on this connection. */
  onEvent(listener: (vm: string, event: VmEvent) => void): () => void {
    this.#eventListeners.add(listener);
    return () => this.#eventListeners.delete(listener);
  }

  #receive(message: Message): void {
    if (message.type === 'event') {
      for (const listener of [...this.#eventListeners]) listener(message.vm, message.event);
      return;
    }
    if (message.type !== 'reply' && message.type !== 'error') return;
    const id = message.id;
    if (id === null) return;
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (message.type === 'reply') pending.resolve(message.result);
    else pending.reject(VmError.fromPayload(message.error));
  }
}

/** What a command server needs from the VMs it serves. */
export interface CommandHandler {
  /** The current state of `vm`, or `null` when there is no such VM. */
  stateOf(vm: string): VmState | null;
  /** Carries out a command that has been validated and found legal. */
  handle(vm: string, command: Command): Promise<ReplyMessage['result']> | ReplyMessage['result'];
}

/**
 * Answers every command that arrives on `transport` through `handler`. Invalid messages that carry
 * an id are answered with `invalid_request`; commands illegal in the VM's state with
 * `invalid_state` (or `not_found` / `already_exists`). Returns a function that stops serving.
 */
export function serveCommands(transport: Transport, handler: CommandHandler): () => void {
  const answerError = (id: number | null, error: VmError) => {
    if (!transport.closed) transport.send({ v: PROTOCOL_VERSION, type: 'error', id, error: error.toPayload() });
  };
  const offError = transport.onError((error) => answerError(null, error));
  const offMessage = transport.onMessage((message) => {
    if (message.type !== 'command') return;
    void runCommand(message).catch((error: unknown) => answerError(message.id, VmError.from(error)));
  });
  async function runCommand(message: CommandMessage): Promise<void> {
    const state = handler.stateOf(message.vm);
    const name = message.command.name;
    if (!isLegal(name, state)) {
      if (state === null) throw new VmError('not_found', `no VM named ${message.vm}; create it first`);
      if (name === 'create' || name === 'snapshotRestore') throw new VmError('already_exists', `a VM named ${message.vm} already exists; delete it or choose another id`);
      throw new VmError('invalid_state', `${name} is not allowed while VM ${message.vm} is ${state}`);
    }
    const result = await handler.handle(message.vm, message.command);
    if (transport.closed) return;
    const reply: ReplyMessage = result === undefined ? { v: PROTOCOL_VERSION, type: 'reply', id: message.id } : { v: PROTOCOL_VERSION, type: 'reply', id: message.id, result };
    transport.send(reply);
  }
  return () => {
    offError();
    offMessage();
  };
}

/** Sends an event for `vm` on `transport` (a no-op once the transport is closed). */
export function sendEvent(transport: Transport, vm: string, event: VmEvent): void {
  if (transport.closed) return;
  const message: EventMessage = { v: PROTOCOL_VERSION, type: 'event', vm, event };
  transport.send(message);
}

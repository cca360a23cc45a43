/** The message types, inferred from the schemas so the two can never disagree. */
import type * as v from 'valibot';
import type { CommandSchema, DiskConfigSchema, EventSchema, MessageSchema, NetConfigSchema, VmConfigSchema, VmInfoSchema } from './schemas.js';
import type { VmState } from './states.js';

/** Everything needed to build a VM. */
export type VmConfig = v.InferOutput<typeof VmConfigSchema>;
/** A disk attached to a VM. */
export type DiskConfig = v.InferOutput<typeof DiskConfigSchema>;
/** A NIC on a named switch. */
export type NetConfig = v.InferOutput<typeof NetConfigSchema>;
/** What a VM looks like from outside. */
export type VmInfo = v.InferOutput<typeof VmInfoSchema>;
/** Any command. */
export type Command = v.InferOutput<typeof CommandSchema>;
/** The name of a command. */
export type CommandName = Command['name'];
/** Any event. */
export type VmEvent = v.InferOutput<typeof EventSchema>;
/** Any protocol message. */
export type Message = v.InferOutput<typeof MessageSchema>;
/** A command message. */
export type CommandMessage = Extract<Message, { type: 'command' }>;
/** A reply message. */
export type ReplyMessage = Extract<Message, { type: 'reply' }>;
/** An error message. */
export type ErrorMessage = Extract<Message, { type: 'error' }>;
/** An event message. */
export type EventMessage = Extract<Message, { type: 'event' }>;

/** `'absent'`: the command needs a VM id that does not exist yet. */
export type CommandPrecondition = readonly VmState[] | 'absent';

/**
 * In which VM states each command is legal. A command sent in another state is answered with
 * `invalid_state` and changes nothing.
 */
export const LEGAL_STATES: Readonly<Record<CommandName, CommandPrecondition>> = {
  create: 'absent',
  snapshotRestore: 'absent',
  start: ['created'],
  pause: ['running'],
  resume: ['paused'],
  stop: ['created', 'running', 'paused'],
  reboot: ['running', 'paused'],
  delete: ['created', 'running', 'paused', 'stopped', 'failed'],
  inspect: ['created', 'running', 'paused', 'stopped', 'failed'],
  sendCtrlAltDel: ['running'],
  snapshotCreate: ['paused'],
  consoleInput: ['created', 'running', 'paused'],
  consoleResize: ['created', 'running', 'paused', 'stopped'],
};

/** Whether `command` may be sent to a VM in `state` (`null`: no such VM). */
export function isLegal(command: CommandName, state: VmState | null): boolean {
  const rule = LEGAL_STATES[command];
  return rule === 'absent' ? state === null : state !== null && rule.includes(state);
}

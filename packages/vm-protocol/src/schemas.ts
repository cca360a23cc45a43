/**
 * The schemas of every message, written with valibot. Each schema is also a Standard Schema
 * (`schema['~standard']`), so users can validate with it from any Standard Schema aware library, or
 * bring their own validator. Objects are strict: unknown fields are an error, not ignored.
 */
import * as v from 'valibot';
import { ERROR_CODES } from './errors.js';
import { MAX_CONSOLE_CHUNK_BYTES, MAX_MEMORY_MIB, MIN_MEMORY_MIB, PROTOCOL_VERSION } from './limits.js';
import { VM_STATES } from './states.js';

const shortText = (max: number) => v.pipe(v.string(), v.maxLength(max));
const hostPath = v.pipe(v.string(), v.minLength(1), v.maxLength(4096), v.check((s) => !s.includes('\0'), 'a path may not contain NUL'));
const base64 = (maxBytes: number) =>
  v.pipe(v.string(), v.maxLength(Math.ceil(maxBytes / 3) * 4), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64'));

/** A VM identifier: 1–64 letters, digits, `-` or `_`. */
export const VmIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'a VM id is 1-64 letters, digits, - or _'));

/** A disk attached to a VM. */
export const DiskConfigSchema = v.strictObject({
  path: hostPath,
  readOnly: v.optional(v.boolean()),
});

/** A network interface attached to a named in-process switch. */
export const NetConfigSchema = v.strictObject({
  switch: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'a switch name is 1-64 letters, digits, - or _')),
  mac: v.optional(v.pipe(v.string(), v.regex(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/, 'a MAC address is six lower-case hex pairs: 52:54:00:12:34:56'))),
});

/** Everything needed to build a VM; host paths are read by the driver. */
export const VmConfigSchema = v.strictObject({
  memoryMiB: v.pipe(v.number(), v.integer(), v.minValue(MIN_MEMORY_MIB), v.maxValue(MAX_MEMORY_MIB)),
  kernel: v.optional(hostPath),
  initrd: v.optional(hostPath),
  cmdline: v.optional(shortText(4096)),
  bios: v.optional(hostPath),
  disks: v.optional(v.pipe(v.array(DiskConfigSchema), v.maxLength(8))),
  nets: v.optional(v.pipe(v.array(NetConfigSchema), v.maxLength(4))),
  clock: v.optional(v.picklist(['realtime', 'deterministic'])),
});

const noArgs = <N extends string>(name: N) => v.strictObject({ name: v.literal(name) });

/** Every command, discriminated by `name`. */
export const CommandSchema = v.variant('name', [
  v.strictObject({ name: v.literal('create'), config: VmConfigSchema }),
  noArgs('start'),
  noArgs('pause'),
  noArgs('resume'),
  noArgs('stop'),
  noArgs('reboot'),
  noArgs('delete'),
  noArgs('inspect'),
  noArgs('sendCtrlAltDel'),
  v.strictObject({ name: v.literal('snapshotCreate'), path: hostPath }),
  v.strictObject({ name: v.literal('snapshotRestore'), path: hostPath }),
  v.strictObject({ name: v.literal('consoleInput'), data: base64(MAX_CONSOLE_CHUNK_BYTES) }),
  v.strictObject({
    name: v.literal('consoleResize'),
    cols: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
    rows: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000)),
  }),
]);

const state = v.picklist(VM_STATES);

/** What a VM looks like from outside. */
export const VmInfoSchema = v.strictObject({
  id: VmIdSchema,
  state,
  config: VmConfigSchema,
  // Milliseconds the guest has been running (excluding pauses).
  uptimeMs: v.pipe(v.number(), v.minValue(0)),
  // Guest instructions retired.
  instructions: v.pipe(v.number(), v.minValue(0)),
  // Why the VM failed, when it did.
  failure: v.optional(shortText(4096)),
});

/** Every event, discriminated by `name`. */
export const EventSchema = v.variant('name', [
  v.strictObject({ name: v.literal('stateChanged'), from: state, to: state, reason: v.optional(shortText(4096)) }),
  v.strictObject({ name: v.literal('console'), data: base64(MAX_CONSOLE_CHUNK_BYTES) }),
  v.strictObject({ name: v.literal('guestPanic'), message: shortText(4096) }),
  v.strictObject({ name: v.literal('tripleFault'), eip: v.pipe(v.number(), v.integer(), v.minValue(0)) }),
  v.strictObject({ name: v.literal('workerDied'), message: shortText(4096) }),
  v.strictObject({ name: v.literal('exited'), code: v.pipe(v.number(), v.integer()) }),
]);

const requestId = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));

/** A protocol message: a command, its reply or error, or an event, in a versioned envelope. */
export const MessageSchema = v.variant('type', [
  v.strictObject({ v: v.literal(PROTOCOL_VERSION), type: v.literal('command'), id: requestId, vm: VmIdSchema, command: CommandSchema }),
  v.strictObject({ v: v.literal(PROTOCOL_VERSION), type: v.literal('reply'), id: requestId, result: v.optional(v.union([VmInfoSchema, v.strictObject({ path: hostPath, bytes: v.number() })])) }),
  v.strictObject({
    v: v.literal(PROTOCOL_VERSION),
    type: v.literal('error'),
    id: v.nullable(requestId),
    error: v.strictObject({ code: v.picklist(ERROR_CODES), message: shortText(4096) }),
  }),
  v.strictObject({ v: v.literal(PROTOCOL_VERSION), type: v.literal('event'), vm: VmIdSchema, event: EventSchema }),
]);

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CommandSchema, LEGAL_STATES, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, VM_STATES, VmConfigSchema, VmError,
  decodeMessage, decodeBase64, encodeBase64, isLegal, nextState, parseMessage, parseWith, validateWith,
  type StandardSchemaV1,
} from '@typevisor/vm-protocol';

const command = (cmd: unknown, extra: Record<string, unknown> = {}) => ({ v: PROTOCOL_VERSION, type: 'command', id: 1, vm: 'vm1', command: cmd, ...extra });

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(VmError);
    return (error as VmError).code;
  }
  throw new Error('expected a VmError');
}

describe('message validation', () => {
  it('accepts every well-formed command', () => {
    const commands = [
      { name: 'create', config: { memoryMiB: 128, kernel: '/k', disks: [{ path: '/d', readOnly: true }], nets: [{ switch: 'lan' }], clock: 'deterministic' } },
      { name: 'start' }, { name: 'pause' }, { name: 'resume' }, { name: 'stop' }, { name: 'reboot' }, { name: 'delete' },
      { name: 'inspect' }, { name: 'sendCtrlAltDel' }, { name: 'snapshotCreate', path: '/s' }, { name: 'snapshotRestore', path: '/s' },
      { name: 'consoleInput', data: encodeBase64(new TextEncoder().encode('ls\n')) }, { name: 'consoleResize', cols: 80, rows: 25 },
    ];
    for (const c of commands) expect(parseMessage(command(c))).toEqual(command(c));
  });

  it('rejects unknown fields, wrong types and unknown commands with the field named', () => {
    expect(() => parseMessage(command({ name: 'start', force: true }))).toThrow(/invalid request/);
    expect(() => parseMessage(command({ name: 'create', config: { memoryMiB: '128' } }))).toThrow(/memoryMiB/);
    expect(codeOf(() => parseMessage(command({ name: 'explode' })))).toBe('invalid_request');
    expect(codeOf(() => parseMessage(command({ name: 'start' }, { extra: 1 })))).toBe('invalid_request');
    expect(codeOf(() => parseMessage({ ...command({ name: 'start' }), vm: '../etc' }))).toBe('invalid_request');
  });

  it('rejects memory sizes outside the machine limits', () => {
    expect(() => parseWith(VmConfigSchema, { memoryMiB: 8 })).toThrow(/memoryMiB/);
    expect(() => parseWith(VmConfigSchema, { memoryMiB: 1.5 })).toThrow(/memoryMiB/);
    expect(parseWith(VmConfigSchema, { memoryMiB: 64 })).toEqual({ memoryMiB: 64 });
    expect(() => parseWith(VmConfigSchema, [])).toThrow(/expected a JSON object, got an array/);
  });

  it('rejects prototype-pollution keys anywhere', () => {
    const poisoned = JSON.parse('{"v":1,"type":"command","id":1,"vm":"a","command":{"name":"start","__proto__":{"admin":true}}}');
    expect(codeOf(() => parseMessage(poisoned))).toBe('invalid_request');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(() => parseWith(VmConfigSchema, JSON.parse('{"memoryMiB":64,"constructor":{"prototype":{}}}'))).toThrow(/not allowed/);
  });

  it('answers another protocol version with unsupported_version, not field errors', () => {
    expect(codeOf(() => parseMessage({ ...command({ name: 'start' }), v: 2 }))).toBe('unsupported_version');
  });

  it('rejects oversized and malformed text before parsing it', () => {
    expect(codeOf(() => decodeMessage(' '.repeat(MAX_MESSAGE_BYTES + 1)))).toBe('payload_too_large');
    expect(codeOf(() => decodeMessage('{"v":1,'))).toBe('invalid_request');
  });

  it('never throws anything but VmError for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseMessage(value);
        } catch (error) {
          expect(error).toBeInstanceOf(VmError);
        }
      }),
      { seed: 11, numRuns: 2000 },
    );
  });

  it('exposes Standard Schemas and accepts a user-supplied validator', () => {
    expect(CommandSchema['~standard'].version).toBe(1);
    const evenOnly: StandardSchemaV1<unknown, number> = {
      '~standard': { version: 1, vendor: 'test', validate: (v) => (typeof v === 'number' && v % 2 === 0 ? { value: v } : { issues: [{ message: 'must be even', path: ['n'] }] }) },
    };
    expect(validateWith(evenOnly, 4)).toBe(4);
    expect(() => validateWith(evenOnly, 3)).toThrow('invalid request: n: must be even');
  });
});

describe('states', () => {
  it('states for every command in which it is legal', () => {
    expect(isLegal('create', null)).toBe(true);
    expect(isLegal('create', 'created')).toBe(false);
    expect(isLegal('start', null)).toBe(false);
    expect(isLegal('pause', 'running')).toBe(true);
    expect(isLegal('pause', 'paused')).toBe(false);
    expect(isLegal('snapshotCreate', 'running')).toBe(false);
    for (const name of Object.keys(LEGAL_STATES)) for (const s of VM_STATES) expect(typeof isLegal(name as 'start', s)).toBe('boolean');
  });

  it('moves through the lifecycle and refuses illegal transitions', () => {
    expect(nextState('created', 'start')).toBe('running');
    expect(nextState('running', 'pause')).toBe('paused');
    expect(nextState('paused', 'resume')).toBe('running');
    expect(nextState('stopped', 'start')).toBeNull();
    expect(nextState('failed', 'resume')).toBeNull();
  });
});

describe('base64', () => {
  it('round-trips any bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
      expect(Array.from(decodeBase64(encodeBase64(bytes)))).toEqual(Array.from(bytes));
    }), { seed: 3 });
    expect(encodeBase64(new TextEncoder().encode('hi!'))).toBe('aGkh');
    expect(() => decodeBase64('a$')).toThrow(RangeError);
  });
});

import { describe, expect, it } from 'vitest';
import type { BlockBackend, CharBackend } from '@typevisor/devices';
import { MachineConfigError, validateMachineConfig } from '../src/index.js';
import type { MachineConfig } from '../src/index.js';

const kernel = new Uint8Array(1024);
const MiB = 1024 * 1024;
const disk = (size: number, readOnly = false): BlockBackend => ({
  size, readOnly, id: 'disk', read() {}, write() {}, flush() {}, discard() {},
});
const char: CharBackend = { write() {}, setReceiver() {} };

function errorOf(config: MachineConfig): MachineConfigError {
  try {
    validateMachineConfig(config);
  } catch (error) {
    if (error instanceof MachineConfigError) return error;
    throw error;
  }
  throw new Error('expected a MachineConfigError');
}

describe('validateMachineConfig', () => {
  it('fills in defaults', () => {
    const config = validateMachineConfig({ memorySize: 64 * MiB, kernel });
    expect(config).toMatchObject({
      memorySize: 64 * MiB, cmdline: '', initrd: null, firmware: null, disks: [], nets: [],
      serial: null, clock: 'realtime', instructionsPerNs: 0.1, acpi: true, virtioOnCmdline: false,
    });
  });

  it('announces virtio devices on the command line when ACPI is off', () => {
    expect(validateMachineConfig({ memorySize: 64 * MiB, kernel, acpi: false }).virtioOnCmdline).toBe(true);
  });

  it.each<[string, MachineConfig, string, RegExp]>([
    ['memory not integer', { memorySize: 1.5, kernel }, 'memorySize', /integer/],
    ['memory too small', { memorySize: MiB, kernel }, 'memorySize', /minimum of 2 MiB/],
    ['memory too big', { memorySize: 4096 * MiB, kernel }, 'memorySize', /above 3 GiB/],
    ['memory not page multiple', { memorySize: 64 * MiB + 100, kernel }, 'memorySize', /4 KiB/],
    ['no boot image', { memorySize: 64 * MiB }, 'kernel', /neither kernel nor firmware/],
    ['kernel and firmware', { memorySize: 64 * MiB, kernel, firmware: kernel }, 'firmware', /cannot be combined/],
    ['empty kernel', { memorySize: 64 * MiB, kernel: new Uint8Array(0) }, 'kernel', /empty/],
    ['initrd without kernel', { memorySize: 64 * MiB, firmware: kernel, initrd: kernel }, 'initrd', /without a kernel/],
    ['cmdline too long', { memorySize: 64 * MiB, kernel, cmdline: 'x'.repeat(3000) }, 'cmdline', /longer than 2047/],
    ['bad disk', { memorySize: 64 * MiB, kernel, disks: [{ backend: {} as BlockBackend }] }, 'disks[0].backend', /not a BlockBackend/],
    ['odd disk size', { memorySize: 64 * MiB, kernel, disks: [{ backend: disk(1000) }] }, 'disks[0].backend', /512-byte/],
    ['rw on ro backend', { memorySize: 64 * MiB, kernel, disks: [{ backend: disk(512, true), readOnly: false }] }, 'disks[0].readOnly', /read-only/],
    ['bad serial', { memorySize: 64 * MiB, kernel, serial: {} as CharBackend }, 'serial', /not a CharBackend/],
    ['bad clock', { memorySize: 64 * MiB, kernel, clock: 'fast' as 'realtime' }, 'clock', /unknown mode/],
    ['bad rate', { memorySize: 64 * MiB, kernel, clock: 'deterministic', instructionsPerNs: 0 }, 'instructionsPerNs', /positive/],
    ['rate without deterministic', { memorySize: 64 * MiB, kernel, instructionsPerNs: 1 }, 'instructionsPerNs', /deterministic/],
    ['too many virtio devices', { memorySize: 64 * MiB, kernel, disks: Array.from({ length: 8 }, () => ({ backend: disk(512) })) }, 'disks', /free IRQs/],
    ['multicast mac', { memorySize: 64 * MiB, kernel, nets: [{ backend: { send() {}, setReceiver() {} }, mac: Uint8Array.of(1, 2, 3, 4, 5, 6) }] }, 'nets[0].mac', /multicast/],
  ])('rejects %s', (_label, config, field, message) => {
    const error = errorOf(config);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(error.fix);
  });

  it('takes read-only from the backend and derives MAC addresses', () => {
    const config = validateMachineConfig({
      memorySize: 64 * MiB, kernel, serial: char,
      disks: [{ backend: disk(4096, true) }],
      nets: [{ backend: { send() {}, setReceiver() {} } }, { backend: { send() {}, setReceiver() {} } }],
    });
    expect(config.disks[0]!.readOnly).toBe(true);
    expect([...config.nets[1]!.mac]).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
    expect(config.serial).toBe(char);
  });
});

import { describe, expect, it } from 'vitest';
import { SNAPSHOT_FORMAT_VERSION, VmManager, decodeSnapshot, encodeSnapshot } from '@typevisor/vm-manager';

const MiB = 1024 * 1024;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return `${(error as { code: string }).code}: ${(error as Error).message}`;
  }
  return 'no error';
}

describe('snapshot file', () => {
  const memory = new Uint8Array(64 * MiB);
  memory[0] = 1;
  memory[10 * 4096 + 17] = 0xab;
  memory[64 * MiB - 1] = 0xcd;
  const content = { config: { memoryMiB: 64 }, machine: { cpu: { eip: 0x1234 }, devices: [] }, memory };

  it('round-trips config, machine state and memory', () => {
    const decoded = decodeSnapshot(encodeSnapshot(content));
    expect(decoded.config).toEqual(content.config);
    expect(decoded.machine).toEqual(content.machine);
    expect(Buffer.compare(decoded.memory, memory)).toBe(0);
    expect(SNAPSHOT_FORMAT_VERSION).toBe(1);
  });

  it('stores memory sparse: three touched pages of 64 MiB cost three pages', () => {
    const bytes = encodeSnapshot(content);
    expect(bytes.length).toBeLessThan(4 * 4096 + 1024);
  });

  it('rejects a truncated file, a flipped bit, a foreign file and a future version', () => {
    const bytes = encodeSnapshot(content);
    expect(codeOf(() => decodeSnapshot(bytes.subarray(0, bytes.length - 100)))).toMatch(/^snapshot_invalid: .*checksum mismatch/);
    const tampered = bytes.slice();
    tampered[100] ^= 1;
    expect(codeOf(() => decodeSnapshot(tampered))).toMatch(/checksum mismatch/);
    expect(codeOf(() => decodeSnapshot(new TextEncoder().encode('#!/bin/sh\necho definitely not a snapshot, but long enough to parse\n')))).toMatch(/bad magic/);
    const future = bytes.slice();
    future[8] = 2;
    expect(codeOf(() => decodeSnapshot(future))).toMatch(/format version 2 is not supported/);
    expect(codeOf(() => decodeSnapshot(new Uint8Array(10)))).toMatch(/too short/);
  });

  it('refuses memory larger than the caller allows', () => {
    expect(codeOf(() => decodeSnapshot(encodeSnapshot(content), { maxMemoryBytes: 32 * MiB }))).toMatch(/exceeds the 33554432-byte limit/);
  });

  it('is importable alongside the manager', () => {
    expect(typeof VmManager).toBe('function');
  });
});

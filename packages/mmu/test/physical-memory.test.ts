import { describe, expect, it } from 'vitest';
import { MemoryMapError, PhysicalMemory, guestPhys } from '../src/index.js';
import { RecordingDevice } from './fakes.js';

const MiB = 1 << 20;

describe('PhysicalMemory: RAM', () => {
  it('stores little-endian values and reads them back at every width', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.writePhys32(0x1000, 0xdeadbeef);
    expect(Array.from(m.ram.subarray(0x1000, 0x1004))).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(m.readPhys32(0x1000)).toBe(0xdeadbeef);
    expect(m.readPhys16(0x1002)).toBe(0xdead);
    expect(m.readPhys8(0x1001)).toBe(0xbe);
    m.writePhys16(0x2000, 0x1234);
    expect(m.readPhys8(0x2000)).toBe(0x34);
    m.writePhys8(0x2001, 0x1ff); // only the low byte is stored
    expect(m.readPhys16(0x2000)).toBe(0xff34);
  });

  it('handles unaligned accesses and accesses that cross a page', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.writePhys32(0x1ffe, 0xa1b2c3d4);
    expect(m.ram[0x1ffe]).toBe(0xd4);
    expect(m.ram[0x2001]).toBe(0xa1);
    expect(m.readPhys32(0x1ffe)).toBe(0xa1b2c3d4);
    expect(m.readPhys16(0x1fff)).toBe(0xb2c3);
    m.writePhys16(0x2fff, 0xbeef);
    expect(m.readPhys16(0x2fff)).toBe(0xbeef);
    expect(m.readPhys32(0x3)).toBe(0);
  });

  it('reads all ones from holes and beyond 4 GiB, and ignores writes there', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    expect(m.readPhys8(MiB)).toBe(0xff);
    expect(m.readPhys16(0x8000_0000)).toBe(0xffff);
    expect(m.readPhys32(0xffff_fffc)).toBe(0xffffffff);
    expect(m.readPhys32(0x1_0000_1000)).toBe(0xffffffff);
    expect(m.readPhys8(2 ** 40)).toBe(0xff);
    m.writePhys32(MiB, 0);
    m.writePhys32(0x1_0000_0000, 0);
    expect(m.readPhys32(MiB)).toBe(0xffffffff);
    // Non-integer and negative garbage from a buggy caller must not throw or reach a wrong byte.
    expect(m.readPhys32(Number.NaN)).toBe(0xffffffff);
    expect(m.readPhys8(12.5)).toBe(0xff);
  });

  it('splits an access at the end of RAM: backed bytes from RAM, the rest all ones', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.writePhys16(MiB - 2, 0x5566);
    expect(m.readPhys32(MiB - 2)).toBe(0xffff5566);
    m.writePhys32(MiB - 1, 0x11223344); // only the first byte lands
    expect(m.ram[MiB - 1]).toBe(0x44);
    expect(m.readPhys32(0xffff_fffe)).toBe(0xffffffff); // wraps past 4 GiB -> not RAM at 0
  });

  it('treats an int32 address as its uint32 value', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.addRom(guestPhys(0xffff_f000), new Uint8Array(0x1000).fill(0x5a), 'bios');
    expect(m.readPhys8(-1)).toBe(0x5a);
  });

  it('rejects a RAM size that is not a multiple of 4 KiB or exceeds 4 GiB', () => {
    expect(() => new PhysicalMemory({ ramSize: 1000 })).toThrow(MemoryMapError);
    expect(() => new PhysicalMemory({ ramSize: 2 ** 33 })).toThrow(/4 GiB/);
  });

  it('reports RAM pages', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.addMmio(guestPhys(0x3000), 0x10, new RecordingDevice(), 'dev');
    expect(m.isRamPage(0)).toBe(true);
    expect(m.isRamPage(3)).toBe(false);
    expect(m.isRamPage(MiB >>> 12)).toBe(false);
  });
});

describe('PhysicalMemory: RAM in a WebAssembly memory behind a host area', () => {
  it('puts the host area first, RAM right after it, in one memory the accessors and the views share', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20, hostAreaBytes: 100_000 });
    const wasm = memory.wasmMemory!;
    expect(wasm).toBeInstanceOf(WebAssembly.Memory);
    expect(memory.hostArea!.byteOffset).toBe(0);
    expect(memory.hostArea!.byteLength).toBe(131_072); // rounded up to whole 64 KiB pages
    expect(memory.ram.buffer).toBe(wasm.buffer);
    expect(memory.ram.byteOffset).toBe(131_072);
    expect(memory.ram.byteLength).toBe(1 << 20);
    memory.writePhys32(0x1000, 0x11223344);
    expect(new DataView(wasm.buffer).getUint32(131_072 + 0x1000, true)).toBe(0x11223344);
    memory.writePhys8(0, 0xaa);
    expect(memory.hostArea![memory.hostArea!.length - 1]).toBe(0); // RAM byte 0 is not in the area
    expect(memory.readPhys32(0x100000)).toBe(0xffffffff); // past RAM: still a hole
  });

  it('keeps RAM in a plain buffer without a host area', () => {
    const memory = new PhysicalMemory({ ramSize: 1 << 20 });
    expect(memory.wasmMemory).toBeNull();
    expect(memory.hostArea).toBeNull();
    expect(memory.ram.buffer).toBeInstanceOf(ArrayBuffer);
  });
});

describe('PhysicalMemory: ROM', () => {
  it('overlays RAM, reads its bytes and ignores writes', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const rom = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    m.addRom(guestPhys(0xf0000), rom, 'option-rom');
    rom[0] = 99; // the map keeps its own copy
    expect(m.readPhys32(0xf0000)).toBe(0x04030201);
    m.writePhys32(0xf0000, 0);
    m.writePhys8(0xf0004, 0);
    expect(m.readPhys32(0xf0000)).toBe(0x04030201);
    expect(m.readPhys8(0xf0004)).toBe(5);
    // The rest of the page is still RAM.
    m.writePhys8(0xf0008, 0x77);
    expect(m.readPhys8(0xf0008)).toBe(0x77);
    // An access straddling the ROM end: 2 bytes of ROM, 2 bytes of RAM.
    m.writePhys16(0xf0008, 0xbbaa);
    expect(m.readPhys32(0xf0006)).toBe(0xbbaa0807);
  });

  it('can sit in a hole above RAM, e.g. the BIOS at the top of 4 GiB', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const bios = new Uint8Array(0x10000);
    bios[0xfff0] = 0xea;
    m.addRom(guestPhys(0xffff0000), bios, 'bios');
    expect(m.readPhys8(0xfffffff0)).toBe(0xea);
    expect(m.readPhys32(0xfffffffe)).toBe(0xffff0000); // two ROM bytes, two beyond 4 GiB
  });
});

describe('PhysicalMemory: MMIO', () => {
  it('dispatches with the access width and the offset within the range', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const dev = new RecordingDevice();
    m.addMmio(guestPhys(0xd000_0100), 0x200, dev, 'virtio0');
    expect(m.readPhys32(0xd000_0170)).toBe(0x11223370);
    expect(m.readPhys16(0xd000_0102)).toBe(0x3302);
    expect(m.readPhys8(0xd000_02ff)).toBe(0xff & (0x11223300 + 0x1ff));
    m.writePhys32(0xd000_0150, 0xcafebabe);
    m.writePhys16(0xd000_0152, 0x12345);
    m.writePhys8(0xd000_0153, 0x1ab);
    expect(dev.log).toEqual([
      { op: 'read', offset: 0x70, size: 4, value: 0x11223370 },
      { op: 'read', offset: 0x2, size: 2, value: 0x11223302 },
      { op: 'read', offset: 0x1ff, size: 1, value: 0x112234ff },
      { op: 'write', offset: 0x50, size: 4, value: 0xcafebabe },
      { op: 'write', offset: 0x52, size: 2, value: 0x2345 },
      { op: 'write', offset: 0x53, size: 1, value: 0xab },
    ]);
  });

  it('dispatches an unaligned access inside one range once, with its width and exact offset', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const dev = new RecordingDevice(0);
    m.addMmio(guestPhys(0xd000_0000), 0x200, dev, 'virtio0');
    expect(m.readPhys32(0xd000_0071)).toBe(0x71);
    m.writePhys16(0xd000_01fe, 0xbeef);
    m.writePhys32(0xd000_01fe, 0x12345678); // runs past the end: split into bytes, the tail is a hole
    expect(dev.log).toEqual([
      { op: 'read', offset: 0x71, size: 4, value: 0x71 },
      { op: 'write', offset: 0x1fe, size: 2, value: 0xbeef },
      { op: 'write', offset: 0x1fe, size: 1, value: 0x78 },
      { op: 'write', offset: 0x1ff, size: 1, value: 0x56 },
    ]);
  });

  it('dispatches several handlers in one page and reads the gaps as all ones', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const a = new RecordingDevice(0x1000);
    const b = new RecordingDevice(0x2000);
    m.addMmio(guestPhys(0xd000_0000), 0x200, a, 'virtio0');
    m.addMmio(guestPhys(0xd000_0400), 0x200, b, 'virtio1');
    expect(m.readPhys32(0xd000_0004)).toBe(0x1004);
    expect(m.readPhys32(0xd000_0404)).toBe(0x2004);
    expect(m.readPhys32(0xd000_0200)).toBe(0xffffffff);
    m.writePhys32(0xd000_0200, 1);
    expect(a.log.length + b.log.length).toBe(2);
  });

  it('punches a hole into RAM; the rest of the page stays RAM', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const dev = new RecordingDevice(0);
    m.addMmio(guestPhys(0x5100), 0x100, dev, 'small');
    m.writePhys32(0x5000, 0x01020304);
    expect(m.readPhys32(0x5000)).toBe(0x01020304);
    expect(m.readPhys8(0x5104)).toBe(4);
    m.writePhys8(0x5100, 0x42);
    expect(m.ram[0x5100]).toBe(0);
    expect(dev.log.at(-1)).toEqual({ op: 'write', offset: 0, size: 1, value: 0x42 });
  });

  it('splits an access that crosses from RAM into MMIO byte by byte', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const dev = new RecordingDevice(0xa0);
    m.addMmio(guestPhys(0x4000), 0x1000, dev, 'dev');
    m.ram[0x3ffe] = 0x11;
    m.ram[0x3fff] = 0x22;
    expect(m.readPhys32(0x3ffe)).toBe(0xa1a02211);
    expect(dev.log.map((x) => [x.offset, x.size])).toEqual([[1, 1], [0, 1]]);
    m.writePhys32(0x3ffe, 0x44332211);
    expect(m.ram[0x3ffe]).toBe(0x11);
    expect(m.ram[0x3fff]).toBe(0x22);
    expect(dev.log.slice(2)).toEqual([
      { op: 'write', offset: 0, size: 1, value: 0x33 },
      { op: 'write', offset: 1, size: 1, value: 0x44 },
    ]);
  });

  it('rejects overlapping regions with a typed error naming both', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.addMmio(guestPhys(0xfee0_0000), 0x1000, new RecordingDevice(), 'lapic');
    let error: unknown = null;
    try {
      m.addMmio(guestPhys(0xfee0_0ff0), 0x20, new RecordingDevice(), 'virtio9');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryMapError);
    const err = error as MemoryMapError;
    expect(err.code).toBe('overlap');
    expect(err.conflictsWith).toBe('lapic');
    expect(err.message).toMatch(/"virtio9".*"lapic"/);
    expect(() => m.addRom(guestPhys(0xfee0_0800), new Uint8Array(4), 'rom')).toThrow(/"rom".*"lapic"/);
    // Touching but not overlapping is fine.
    m.addMmio(guestPhys(0xfee0_1000), 0x10, new RecordingDevice(), 'next');
  });

  it('rejects ROM or MMIO that does not fit below 4 GiB, and empty ranges', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    expect(() => m.addMmio(guestPhys(0xffff_ff00), 0x200, new RecordingDevice(), 'high')).toThrow(MemoryMapError);
    expect(() => m.addRom(guestPhys(0x1_0000_0000), new Uint8Array(1), 'beyond')).toThrow(/beyond the 4 GiB/);
    expect(() => m.addMmio(guestPhys(0x1000), 0, new RecordingDevice(), 'empty')).toThrow(MemoryMapError);
  });

  it('describes the map as data', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.addMmio(guestPhys(0xd000_0000), 0x200, new RecordingDevice(), 'virtio0');
    m.addRom(guestPhys(0xf0000), new Uint8Array(0x10000), 'bios');
    expect(m.describe()).toEqual([
      { name: 'ram', kind: 'ram', base: 0, size: MiB },
      { name: 'bios', kind: 'rom', base: 0xf0000, size: 0x10000 },
      { name: 'virtio0', kind: 'mmio', base: 0xd000_0000, size: 0x200 },
    ]);
  });
});

describe('PhysicalMemory: DMA view', () => {
  it('reads and writes through the branded MemoryBus accessors', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.write32(guestPhys(0x100), 0x87654321);
    expect(m.read32(guestPhys(0x100))).toBe(0x87654321);
    expect(m.read16(guestPhys(0x102))).toBe(0x8765);
    m.write16(guestPhys(0x200), 0xabcd);
    m.write8(guestPhys(0x202), 0xef);
    expect(m.read8(guestPhys(0x202))).toBe(0xef);
    expect(m.read32(guestPhys(0x200))).toBe(0x00efabcd);
  });

  it('copies blocks across page boundaries and reports full completion', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    const src = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    expect(m.writeBytes(guestPhys(0x0ff0), src)).toBe(10000);
    const dst = new Uint8Array(10000);
    expect(m.readBytes(guestPhys(0x0ff0), dst)).toBe(10000);
    expect(dst).toEqual(src);
  });

  it('stops short at the end of RAM', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    expect(m.writeBytes(guestPhys(MiB - 3), new Uint8Array([1, 2, 3, 4, 5]))).toBe(3);
    const dst = new Uint8Array(8);
    expect(m.readBytes(guestPhys(MiB - 3), dst)).toBe(3);
    expect(Array.from(dst.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(m.readBytes(guestPhys(0x1_0000_0000), dst)).toBe(0);
  });

  it('reads ROM but stops at MMIO; writes stop at ROM and MMIO', () => {
    const m = new PhysicalMemory({ ramSize: MiB });
    m.addRom(guestPhys(0x2000), Uint8Array.from([9, 8, 7, 6]), 'rom');
    m.addMmio(guestPhys(0x2004), 4, new RecordingDevice(), 'dev');
    m.ram.fill(0x33, 0x1ff0, 0x2000);
    const dst = new Uint8Array(32);
    expect(m.readBytes(guestPhys(0x1ffe), dst)).toBe(6);
    expect(Array.from(dst.subarray(0, 6))).toEqual([0x33, 0x33, 9, 8, 7, 6]);
    expect(m.writeBytes(guestPhys(0x1ffc), new Uint8Array(8).fill(0x44))).toBe(4);
    expect(m.readPhys32(0x2000)).toBe(0x06070809);
    expect(m.writeBytes(guestPhys(0x2004), new Uint8Array(1))).toBe(0);
    // Past the overlays the page is RAM again.
    expect(m.writeBytes(guestPhys(0x2008), new Uint8Array([0x55, 0x66]))).toBe(2);
    expect(m.readPhys16(0x2008)).toBe(0x6655);
  });
});

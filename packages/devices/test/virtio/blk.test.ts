import { describe, expect, it } from 'vitest';
import {
  BlockConfigOffset,
  BlockFeature,
  BlockIoError,
  BlockRequestType,
  BlockStatus,
  FeatureSet,
  MemoryBlockBackend,
  VirtioBlock,
  VirtioFeature,
  type BlockBackend,
} from '@typevisor/devices';
import { lastByte, rig, sameBytes, u32le } from './harness.js';

const DISK_SIZE = 64 * 1024;

function header(type: number, sector = 0): Uint8Array {
  return u32le(type, 0, sector, 0);
}

function blkRig(options: { readOnly?: boolean; backend?: BlockBackend; features?: (offered: FeatureSet) => FeatureSet } = {}) {
  const backend = options.backend ?? new MemoryBlockBackend({ size: DISK_SIZE, readOnly: options.readOnly ?? false, id: 'disk-serial-0001' });
  const r = rig(new VirtioBlock({ backend }));
  r.driver.init(options.features === undefined ? {} : { features: options.features });
  return { ...r, backend };
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + seed) & 0xff;
  return out;
}

describe('virtio-blk', () => {
  it('exposes capacity in 512-byte sectors, blk_size and range limits in config space', () => {
    const { driver } = blkRig();
    expect(driver.readConfig(BlockConfigOffset.CAPACITY)).toBe(DISK_SIZE / 512);
    expect(driver.readConfig(BlockConfigOffset.CAPACITY + 4)).toBe(0);
    expect(driver.readConfig(BlockConfigOffset.BLK_SIZE)).toBe(512);
    expect(driver.readConfig(BlockConfigOffset.SEG_MAX)).toBe(126);
    expect(driver.readConfig(BlockConfigOffset.MAX_DISCARD_SEG)).toBeGreaterThan(0);
    expect(driver.readConfig(BlockConfigOffset.MAX_WRITE_ZEROES_SECTORS)).toBeGreaterThan(0);
    expect(driver.readConfig(BlockConfigOffset.WRITE_ZEROES_MAY_UNMAP, 1)).toBe(1);
    const offered = driver.deviceFeatures();
    for (const bit of [BlockFeature.FLUSH, BlockFeature.BLK_SIZE, BlockFeature.SEG_MAX, BlockFeature.SIZE_MAX, BlockFeature.DISCARD, BlockFeature.WRITE_ZEROES]) {
      expect(offered.has(bit)).toBe(true);
    }
    expect(offered.has(BlockFeature.RO)).toBe(false);
  });

  it('writes sectors (OUT) and reads them back (IN)', () => {
    const { driver, backend, device } = blkRig();
    const data = pattern(1024, 3);
    driver.submit(0, [{ readable: header(BlockRequestType.OUT, 4) }, { readable: data }, { writable: 1 }]);
    driver.kick(0);
    const [write] = driver.takeUsed(0);
    expect(write?.length).toBe(1);
    expect(write?.written[0]).toBe(BlockStatus.OK);
    expect((backend as MemoryBlockBackend).data.subarray(4 * 512, 4 * 512 + 1024)).toEqual(data);

    driver.submit(0, [{ readable: header(BlockRequestType.IN, 4) }, { writable: 512 }, { writable: 512 }, { writable: 1 }]);
    driver.kick(0);
    const [read] = driver.takeUsed(0);
    expect(read?.length).toBe(1025);
    expect(read?.written.subarray(0, 1024)).toEqual(data);
    expect(read?.written[1024]).toBe(BlockStatus.OK);
    expect(device.stats.reads).toBe(1);
    expect(device.stats.writes).toBe(1);
    expect(device.stats.bytesRead).toBe(1024);
  });

  it('moves requests larger than its 64 KiB transfer buffer in chunks', () => {
    const backend = new MemoryBlockBackend({ size: 256 * 1024 });
    backend.data.set(pattern(200 * 1024, 9));
    const r = rig(new VirtioBlock({ backend }));
    r.driver.init();
    r.driver.submit(0, [{ readable: header(BlockRequestType.IN, 0) }, { writable: 200 * 1024 }, { writable: 1 }]);
    r.driver.kick(0);
    const [read] = r.driver.takeUsed(0);
    expect(sameBytes(read?.written.subarray(0, 200 * 1024), pattern(200 * 1024, 9))).toBe(true);
  });

  it('completes FLUSH through the backend', () => {
    const { driver, backend, device } = blkRig();
    driver.submit(0, [{ readable: header(BlockRequestType.FLUSH) }, { writable: 1 }]);
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.written[0]).toBe(BlockStatus.OK);
    expect((backend as MemoryBlockBackend).flushCount).toBe(1);
    expect(device.stats.flushes).toBe(1);
  });

  it('answers GET_ID with the 20-byte disk id', () => {
    const { driver } = blkRig();
    driver.submit(0, [{ readable: header(BlockRequestType.GET_ID) }, { writable: 20 }, { writable: 1 }]);
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.length).toBe(21);
    const id = new TextDecoder().decode(used?.written.subarray(0, 20)).replace(/\0+$/, '');
    expect(id).toBe('disk-serial-0001');
    expect(used?.written[20]).toBe(BlockStatus.OK);
  });

  it('DISCARD zeroes the ranges (the backend contract) and WRITE_ZEROES writes zeros', () => {
    const { driver, backend, device } = blkRig();
    const disk = (backend as MemoryBlockBackend).data;
    disk.fill(0xaa);
    driver.submit(0, [{ readable: header(BlockRequestType.DISCARD) }, { readable: u32le(2, 0, 2, 0, 10, 0, 1, 0) }, { writable: 1 }]);
    driver.kick(0);
    expect(driver.takeUsed(0)[0]?.written[0]).toBe(BlockStatus.OK);
    expect(disk.subarray(2 * 512, 4 * 512).every((b) => b === 0)).toBe(true);
    expect(disk.subarray(10 * 512, 11 * 512).every((b) => b === 0)).toBe(true);
    expect(disk[4 * 512]).toBe(0xaa);
    expect(disk[9 * 512]).toBe(0xaa);

    for (const flags of [0, 1]) {
      const sector = 20 + flags * 4;
      driver.submit(0, [{ readable: header(BlockRequestType.WRITE_ZEROES) }, { readable: u32le(sector, 0, 3, flags) }, { writable: 1 }]);
      driver.kick(0);
      expect(driver.takeUsed(0)[0]?.written[0]).toBe(BlockStatus.OK);
      expect(disk.subarray(sector * 512, (sector + 3) * 512).every((b) => b === 0)).toBe(true);
      expect(disk[(sector + 3) * 512]).toBe(0xaa);
    }
    expect(device.stats.discards).toBe(1);
    expect(device.stats.writeZeroes).toBe(2);
  });

  it('DISCARD with the unmap flag, or unknown flags, is UNSUPP and changes nothing', () => {
    const { driver, backend } = blkRig();
    const disk = (backend as MemoryBlockBackend).data;
    disk.fill(0x55);
    driver.submit(0, [{ readable: header(BlockRequestType.DISCARD) }, { readable: u32le(0, 0, 1, 1) }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(BlockRequestType.WRITE_ZEROES) }, { readable: u32le(0, 0, 1, 4) }, { writable: 1 }]);
    driver.kick(0);
    const used = driver.takeUsed(0);
    expect(used.map((u) => u.written[0])).toEqual([BlockStatus.UNSUPP, BlockStatus.UNSUPP]);
    expect(disk[0]).toBe(0x55);
  });

  it('DISCARD and WRITE_ZEROES are UNSUPP when the driver did not negotiate them', () => {
    const { driver, backend } = blkRig({ features: () => FeatureSet.of(VirtioFeature.VERSION_1, BlockFeature.FLUSH) });
    const disk = (backend as MemoryBlockBackend).data;
    disk.fill(0x77);
    driver.submit(0, [{ readable: header(BlockRequestType.DISCARD) }, { readable: u32le(0, 0, 1, 0) }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(BlockRequestType.WRITE_ZEROES) }, { readable: u32le(0, 0, 1, 0) }, { writable: 1 }]);
    driver.kick(0);
    expect(driver.takeUsed(0).map((u) => u.written[0])).toEqual([BlockStatus.UNSUPP, BlockStatus.UNSUPP]);
    expect(disk[0]).toBe(0x77);
  });

  it('read-only disk: offers VIRTIO_BLK_F_RO and answers writes with IOERR, reads still work', () => {
    const backend = new MemoryBlockBackend({ size: DISK_SIZE, readOnly: true });
    backend.data.fill(0x11);
    const { driver, device } = blkRig({ backend });
    expect(driver.deviceFeatures().has(BlockFeature.RO)).toBe(true);
    expect(driver.deviceFeatures().has(BlockFeature.DISCARD)).toBe(false);
    driver.submit(0, [{ readable: header(BlockRequestType.OUT, 0) }, { readable: new Uint8Array(512) }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(BlockRequestType.IN, 0) }, { writable: 512 }, { writable: 1 }]);
    driver.kick(0);
    const [write, read] = driver.takeUsed(0);
    expect(write?.written[0]).toBe(BlockStatus.IOERR);
    expect(backend.data[0]).toBe(0x11);
    expect(read?.written[512]).toBe(BlockStatus.OK);
    expect(read?.written[0]).toBe(0x11);
    expect(device.stats.ioErrors).toBe(1);
  });

  it('requests past the capacity get IOERR', () => {
    const { driver } = blkRig();
    const lastSector = DISK_SIZE / 512 - 1;
    driver.submit(0, [{ readable: header(BlockRequestType.IN, lastSector) }, { writable: 1024 }, { writable: 1 }]);
    driver.submit(0, [{ readable: u32le(BlockRequestType.OUT, 0, 0, 1) }, { readable: new Uint8Array(512) }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(BlockRequestType.IN, lastSector) }, { writable: 512 }, { writable: 1 }]);
    driver.kick(0);
    const [past, huge, last] = driver.takeUsed(0);
    expect(lastByte(past)).toBe(BlockStatus.IOERR);
    expect(past?.length).toBe(1);
    expect(huge?.written[0]).toBe(BlockStatus.IOERR);
    expect(last?.written[512]).toBe(BlockStatus.OK);
  });

  it('a backend BlockIoError becomes IOERR; unknown request types become UNSUPP', () => {
    const failing: BlockBackend = {
      size: DISK_SIZE,
      readOnly: false,
      id: 'failing',
      read() {
        throw new BlockIoError('medium error');
      },
      write() {
        throw new BlockIoError('medium error');
      },
      flush() {
        throw new BlockIoError('fsync failed');
      },
      discard() {},
    };
    const { driver, transport } = blkRig({ backend: failing });
    driver.submit(0, [{ readable: header(BlockRequestType.IN) }, { writable: 512 }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(BlockRequestType.FLUSH) }, { writable: 1 }]);
    driver.submit(0, [{ readable: header(77) }, { writable: 1 }]);
    driver.kick(0);
    const used = driver.takeUsed(0);
    expect(used.map((u) => lastByte(u))).toEqual([BlockStatus.IOERR, BlockStatus.IOERR, BlockStatus.UNSUPP]);
    expect(transport.stats.internalErrors).toBe(0);
    expect(transport.active).toBe(true);
  });

  it('serves a request placed in an indirect descriptor table', () => {
    const { driver, backend } = blkRig();
    (backend as MemoryBlockBackend).data.set(pattern(512, 1), 512);
    driver.submit(0, [{ readable: header(BlockRequestType.IN, 1) }, { writable: 512 }, { writable: 1 }], { indirect: true });
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.written.subarray(0, 512)).toEqual(pattern(512, 1));
    expect(used?.written[512]).toBe(BlockStatus.OK);
  });

  it('lengths that are not whole sectors get IOERR', () => {
    const { driver } = blkRig();
    driver.submit(0, [{ readable: header(BlockRequestType.OUT) }, { readable: new Uint8Array(100) }, { writable: 1 }]);
    driver.kick(0);
    expect(driver.takeUsed(0)[0]?.written[0]).toBe(BlockStatus.IOERR);
  });

  it('works with only VERSION_1 negotiated (no indirect, no event index)', () => {
    const { driver, transport } = blkRig({ features: () => FeatureSet.of(VirtioFeature.VERSION_1) });
    expect(transport.negotiatedFeatures.has(VirtioFeature.RING_EVENT_IDX)).toBe(false);
    driver.submit(0, [{ readable: header(BlockRequestType.FLUSH) }, { writable: 1 }]);
    driver.kick(0);
    expect(driver.takeUsed(0)[0]?.written[0]).toBe(BlockStatus.OK);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BlockRequestType,
  BlockStatus,
  DeviceStatus,
  LoopbackNetBackend,
  MemoryBlockBackend,
  MmioRegister,
  NET_HEADER_SIZE,
  NetFeature,
  NetQueue,
  VirtioBlock,
  VirtioMmioTransport,
  VirtioNet,
} from '@typevisor/devices';
import { FakeGuestMemory, RecordingIrqLine, defaultVirtioFuzzTargets, runVirtioFuzzInput } from '@typevisor/devices/testing';
import { rig, sameBytes, u32le } from './harness.js';

const SEED = 20240607;

describe('property: hostile guests never break the host', () => {
  it('random guest programs (ring contents, chains, registers, host events, snapshots) through every device', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 1500 }), (bytes) => {
        const result = runVirtioFuzzInput(bytes);
        expect(result.operations).toBeGreaterThanOrEqual(0);
      }),
      { seed: SEED, numRuns: 2500 },
    );
  });

  it('random register write sequences through every device keep registers sane', () => {
    const access = fc.record({
      offset: fc.oneof(fc.constantFrom(...Object.values(MmioRegister)), fc.integer({ min: 0, max: 0x1ff })),
      size: fc.constantFrom(1 as const, 2 as const, 4 as const),
      value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 8, 15, 64, 128, 0xff, 0xffff_ffff), fc.nat({ max: 0xffff_ffff })),
      read: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.nat({ max: defaultVirtioFuzzTargets.length - 1 }), fc.array(access, { maxLength: 120 }), (which, accesses) => {
        const { device } = defaultVirtioFuzzTargets[which]!.create();
        const memory = new FakeGuestMemory({ size: 64 * 1024 });
        const irq = new RecordingIrqLine();
        const transport = new VirtioMmioTransport({ device, memory, irq });
        for (const a of accesses) {
          if (a.read) {
            const value = transport.read(a.offset, a.size);
            expect(value).toBeGreaterThanOrEqual(0);
            expect(value).toBeLessThanOrEqual(0xffff_ffff);
          } else {
            transport.write(a.offset, a.size, a.value);
          }
          expect(irq.level).toBe(transport.interruptStatus !== 0);
          // DRIVER_OK never stands without FEATURES_OK, FEATURES_OK never without DRIVER.
          const status = transport.status;
          if ((status & DeviceStatus.DRIVER_OK) !== 0) expect(status & DeviceStatus.FEATURES_OK).not.toBe(0);
          if ((status & DeviceStatus.FEATURES_OK) !== 0) expect(status & DeviceStatus.DRIVER).not.toBe(0);
        }
        expect(transport.stats.internalErrors).toBe(0);
      }),
      { seed: SEED, numRuns: 1500 },
    );
  });
});

describe('property: well-behaved guests get correct results', () => {
  it('virtio-blk matches a byte-array model under random reads and writes (direct and indirect)', () => {
    const sectors = 64;
    const op = fc.record({
      write: fc.boolean(),
      sector: fc.nat({ max: sectors - 1 }),
      count: fc.integer({ min: 1, max: 4 }),
      fill: fc.nat({ max: 255 }),
      indirect: fc.boolean(),
      split: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const backend = new MemoryBlockBackend({ size: sectors * 512 });
        const model = new Uint8Array(sectors * 512);
        const r = rig(new VirtioBlock({ backend, queueSize: 16 }), 2 << 20);
        r.driver.init();
        for (const o of ops) {
          const length = o.count * 512;
          const inRange = o.sector + o.count <= sectors;
          const header = u32le(o.write ? BlockRequestType.OUT : BlockRequestType.IN, 0, o.sector, 0);
          if (o.write) {
            const data = new Uint8Array(length).map((_, i) => (o.fill + i) & 0xff);
            const parts = o.split ? [data.subarray(0, 512), data.subarray(512)] : [data];
            r.driver.submit(0, [{ readable: header }, ...parts.filter((p) => p.length > 0).map((p) => ({ readable: p })), { writable: 1 }], { indirect: o.indirect });
            r.driver.kick(0);
            const [used] = r.driver.takeUsed(0);
            expect(used?.buffers.at(-1)?.[0]).toBe(inRange ? BlockStatus.OK : BlockStatus.IOERR);
            if (inRange) model.set(data, o.sector * 512);
          } else {
            r.driver.submit(0, [{ readable: header }, { writable: length }, { writable: 1 }], { indirect: o.indirect });
            r.driver.kick(0);
            const [used] = r.driver.takeUsed(0);
            expect(used?.buffers.at(-1)?.[0]).toBe(inRange ? BlockStatus.OK : BlockStatus.IOERR);
            if (inRange) {
              const expected = model.subarray(o.sector * 512, o.sector * 512 + length);
              expect(sameBytes(used?.buffers[0], expected)).toBe(true);
            }
          }
        }
        expect(sameBytes(backend.data, model)).toBe(true);
        expect(r.transport.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('virtio-net over loopback delivers every frame intact or counts it as dropped (with and without MRG_RXBUF)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(fc.integer({ min: 14, max: 3000 }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.integer({ min: NET_HEADER_SIZE, max: 2048 }), { minLength: 1, maxLength: 24 }),
        (mrg, frameLengths, bufferSizes) => {
          const r = rig(new VirtioNet({ backend: new LoopbackNetBackend(), queueSize: 32, rxBacklogFrames: 64 }), 2 << 20);
          r.driver.init({ features: (offered) => (mrg ? offered : offered.clone().remove(NetFeature.MRG_RXBUF)) });
          for (const size of bufferSizes) r.driver.submit(NetQueue.RX, [{ writable: size }]);
          r.driver.kick(NetQueue.RX);
          const sent: Uint8Array[] = [];
          for (const [n, length] of frameLengths.entries()) {
            const frame = new Uint8Array(length).map((_, i) => (i * 13 + n) & 0xff);
            sent.push(frame);
            r.driver.submit(NetQueue.TX, [{ readable: new Uint8Array(NET_HEADER_SIZE) }, { readable: frame }]);
            r.driver.kick(NetQueue.TX);
          }
          // Reassemble what arrived, using num_buffers from each first buffer.
          const used = r.driver.takeUsed(NetQueue.RX);
          const received: Uint8Array[] = [];
          for (let i = 0; i < used.length; ) {
            const first = used[i]!;
            const count = first.written[10]! | (first.written[11]! << 8);
            expect(count).toBeGreaterThanOrEqual(1);
            const parts = used.slice(i, i + count);
            const total = parts.reduce((sum, u) => sum + u.length, 0);
            const joined = new Uint8Array(total);
            let offset = 0;
            for (const part of parts) {
              joined.set(part.written, offset);
              offset += part.length;
            }
            received.push(joined.subarray(NET_HEADER_SIZE));
            i += count;
          }
          const device = r.device;
          expect(received.length + device.stats.rxDropped + device.rxBacklog).toBe(sent.length);
          // Frames arrive in order; each one that arrived is intact.
          let cursor = 0;
          for (const frame of received) {
            while (cursor < sent.length && !sameBytes(sent[cursor], frame)) cursor++;
            expect(cursor).toBeLessThan(sent.length);
            cursor++;
          }
          expect(r.transport.status & DeviceStatus.DEVICE_NEEDS_RESET).toBe(0);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BootImageError, microvmE820, planBoot } from '../src/index.js';
import { fakeBzImage, fakeMultibootAout, fakeMultibootElf } from './helpers/images.js';

const MiB = 1024 * 1024;
const seeds = [
  fakeBzImage({ kernelBytes: 2048 }),
  fakeMultibootAout(Uint8Array.of(0xf4, 0xeb, 0xfd)),
  fakeMultibootElf(Uint8Array.of(0xf4, 0xeb, 0xfd)),
];

/** Boot images are hostile input: a loader may only refuse them with BootImageError. */
function plansOrRefuses(kernel: Uint8Array, initrdSize: number, memorySize: number): void {
  try {
    const plan = planBoot({
      kernel, firmware: null, initrd: initrdSize > 0 ? new Uint8Array(initrdSize) : null, cmdline: 'console=ttyS0',
      memorySize, e820: microvmE820(memorySize), acpiRsdp: 0xe0000,
    });
    for (const segment of plan.segments) {
      expect(segment.address).toBeGreaterThanOrEqual(0);
      expect(segment.address + segment.bytes.length).toBeLessThanOrEqual(memorySize);
    }
  } catch (error) {
    if (!(error instanceof BootImageError)) throw error;
  }
}

/** Mostly header bytes: the bzImage setup header (0x1F1-0x26F) and the multiboot/ELF headers. */
const position = fc.oneof(fc.integer({ min: 0x1f1, max: 0x26f }), fc.integer({ min: 0, max: 127 }), fc.nat());

describe('loaders on mutated images', () => {
  it('plan inside RAM or refuse with BootImageError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { maxLength: 24 }),
        fc.integer({ min: 0, max: 4096 }),
        fc.integer({ min: 0, max: 64 * 1024 }),
        fc.constantFrom(2 * MiB, 16 * MiB, 32 * MiB),
        (seedIndex, mutations, cut, initrdSize, memorySize) => {
          const base = seeds[seedIndex]!;
          const image = base.slice(0, Math.max(1, base.length - cut));
          for (const [at, value] of mutations) image[at % image.length] = value;
          plansOrRefuses(image, initrdSize, memorySize);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('refuse random bytes as not-a-kernel', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 9000 }), (bytes) => {
        expect(() => plansOrRefuses(bytes, 0, 16 * MiB)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

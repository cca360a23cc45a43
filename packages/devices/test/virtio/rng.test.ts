import { describe, expect, it } from 'vitest';
import { CryptoEntropySource, VirtioRng, type EntropySource } from '@typevisor/devices';
import { rig } from './harness.js';

class CountingSource implements EntropySource {
  calls = 0;
  fill(dst: Uint8Array): void {
    this.calls++;
    for (let i = 0; i < dst.length; i++) dst[i] = 0xc3;
  }
}

describe('virtio-rng', () => {
  it('fills the guest buffer with bytes from the entropy source', () => {
    const source = new CountingSource();
    const { driver, device } = rig(new VirtioRng({ source }));
    driver.init();
    driver.submit(0, [{ writable: 32 }]);
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.length).toBe(32);
    expect(Array.from(used?.written ?? [])).toEqual(new Array(32).fill(0xc3));
    expect(device.stats).toEqual({ requests: 1, bytes: 32 });
  });

  it('gives at most maxBytesPerRequest bytes, whatever the buffer size', () => {
    const source = new CountingSource();
    const { driver } = rig(new VirtioRng({ source, maxBytesPerRequest: 10_000 }));
    driver.init();
    driver.submit(0, [{ writable: 6000 }, { writable: 6000 }]);
    driver.kick(0);
    const [used] = driver.takeUsed(0);
    expect(used?.length).toBe(10_000);
    expect(used?.buffers[1]?.[4000 - 1]).toBe(0xc3);
    expect(used?.buffers[1]?.[4000]).toBe(0);
  });

  it('the default cap is 64 KiB per request', () => {
    const { driver } = rig(new VirtioRng({ source: new CountingSource() }));
    driver.init();
    driver.submit(0, [{ writable: 100_000 }]);
    driver.kick(0);
    expect(driver.takeUsed(0)[0]?.length).toBe(65536);
  });

  it('CryptoEntropySource fills large buffers (more than the 64 KiB Web Crypto limit)', () => {
    const source = new CryptoEntropySource();
    const big = new Uint8Array(200_000);
    source.fill(big);
    const tail = big.subarray(150_000);
    expect(tail.some((b) => b !== 0)).toBe(true);
    const counts = new Array<number>(256).fill(0);
    for (const b of big) counts[b]!++;
    expect(Math.max(...counts)).toBeLessThan(1200);
  });
});

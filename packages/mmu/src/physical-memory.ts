import type { GuestPhys } from './addresses.js';
import { PAGE_SHIFT, PAGE_SIZE, PHYSICAL_SPACE_SIZE } from './addresses.js';
import { MemoryMapError } from './errors.js';
import type { MemoryBus, MmioHandler } from './memory-bus.js';

/*
 * Page map: one byte per 4 KiB page of the 4 GiB space (1 MiB in total), so "is this plain RAM?" is
 * a single array read. The byte is a set of flags:
 *   PAGE_RAM      the whole page is RAM with no overlay: ram[addr] is the byte at addr.
 *   PAGE_CODE     the CPU decoded code from this page; the next write notifies onCodeWrite.
 *   PAGE_REGIONS  at least one ROM or MMIO region touches the page; look the address up in `regions`.
 * Read fast path: (map & PAGE_RAM) !== 0. Write fast path: map === PAGE_RAM (a code page or any
 * overlay takes the slow path, which is where the notification and dispatch live).
 */
const PAGE_RAM = 1;
const PAGE_CODE = 2;
const PAGE_REGIONS = 4;
const PAGE_COUNT = PHYSICAL_SPACE_SIZE / PAGE_SIZE;
const PAGE_MASK = PAGE_SIZE - 1;

const KIND_ROM = 0;
const KIND_MMIO = 1;

const NO_ROM_BYTES = new Uint8Array(0);
const NO_HANDLER: MmioHandler = {
  read: () => 0xffffffff,
  write: () => undefined,
};

/** One ROM or MMIO range. All instances have the same shape so lookups stay monomorphic. */
class Region {
  constructor(
    readonly kind: number,
    readonly name: string,
    readonly base: number,
    readonly end: number,
    readonly bytes: Uint8Array,
    readonly handler: MmioHandler,
  ) {}
}

/** A read-only description of one range of the memory map (see {@link PhysicalMemory.describe}). */
export interface MemoryRegionInfo {
  /** The name given when the range was added (`'ram'` for RAM). */
  readonly name: string;
  /** What backs the range. */
  readonly kind: 'ram' | 'rom' | 'mmio';
  /** First guest-physical address. */
  readonly base: number;
  /** Length in bytes. */
  readonly size: number;
}

/** Options of {@link PhysicalMemory}. */
export interface PhysicalMemoryOptions {
  /** Bytes of RAM mapped at physical 0; a multiple of 4 KiB, at most 4 GiB. */
  ramSize: number;
  /**
   * Ask for RAM inside a `WebAssembly.Memory`, after a host area of at least this many bytes (rounded
   * up to 64 KiB), so that an execution engine compiled to WebAssembly can keep its state in the host
   * area and reach RAM from the same linear memory ({@link PhysicalMemory.wasmMemory}). When the
   * engine cannot get such a memory (no WebAssembly, too large), RAM is a plain buffer and
   * `wasmMemory` is null. 0 (the default): a plain buffer.
   */
  hostAreaBytes?: number;
}

/** Bytes of a WebAssembly page. */
const WASM_PAGE = 65536;
/** Pages of the largest WebAssembly memory (4 GiB). */
const WASM_MAX_PAGES = 65536;

/** Turns any number into a uint32 physical address, or -1 when it is outside the 4 GiB space. */
function normalize(addr: number): number {
  if ((addr | 0) === addr) return addr >>> 0;
  if (addr >= 0 && addr < PHYSICAL_SPACE_SIZE && Math.floor(addr) === addr) return addr;
  return -1;
}

/** A WebAssembly memory of at least `bytes` that never grows (growing would detach its views), or null when none can be had. */
function wasmMemoryFor(bytes: number): WebAssembly.Memory | null {
  const pages = Math.ceil(bytes / WASM_PAGE);
  if (typeof WebAssembly !== 'object' || pages > WASM_MAX_PAGES) return null;
  try {
    return new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return null; // the host could not reserve it: RAM in a plain buffer still works
  }
}

function hex(n: number): string {
  return '0x' + n.toString(16);
}

/**
 * The guest-physical address space, described as data: RAM from address 0, ROM overlays and MMIO
 * ranges dispatched to handlers. Everything else is a hole that reads all ones and ignores writes.
 * Nothing a guest does can make an access throw or reach outside {@link PhysicalMemory.ram}.
 *
 * The CPU uses the unbranded `readPhys*`/`writePhys*` methods; devices use the {@link MemoryBus}
 * view (`read8`…`writeBytes`) with branded {@link GuestPhys} addresses.
 *
 * @example
 * ```ts
 * declare const biosBytes: Uint8Array, virtioBlk: MmioHandler;
 * const memory = new PhysicalMemory({ ramSize: 16 << 20 });
 * memory.addRom(guestPhys(0xfffe0000), biosBytes, 'bios');
 * memory.addMmio(guestPhys(0xd0000000), 0x200, virtioBlk, 'virtio-blk');
 * memory.writePhys32(0x1000, 0xdeadbeef);
 * memory.readPhys16(0x1002); // 0xdead
 * ```
 */
export class PhysicalMemory implements MemoryBus {
  /** Bytes of RAM, mapped at physical 0. */
  readonly ramSize: number;
  /** Backing store of RAM: for a RAM page, `ram[addr]` is the byte at physical `addr`. */
  readonly ram: Uint8Array;
  /**
   * Called once when a write (CPU or DMA) lands in RAM of a page marked with
   * {@link PhysicalMemory.markCodePage}; the page is unmarked before the call, so the handler may
   * mark it again. Called after the written bytes of that page are in memory.
   */
  onCodeWrite: ((page: number) => void) | null = null;
  /** The WebAssembly memory holding the host area and RAM, or null (see {@link PhysicalMemoryOptions.hostAreaBytes}). */
  readonly wasmMemory: WebAssembly.Memory | null = null;
  /** The host area at the start of {@link PhysicalMemory.wasmMemory} (RAM follows it), or null. */
  readonly hostArea: Uint8Array | null = null;

  private readonly pageMap = new Uint8Array(PAGE_COUNT);
  /** ROM and MMIO regions sorted by base; they never overlap each other. */
  private readonly regions: Region[] = [];

  constructor(options: PhysicalMemoryOptions) {
    const ramSize = options.ramSize;
    if (!Number.isInteger(ramSize) || ramSize < 0 || ramSize % PAGE_SIZE !== 0 || ramSize > PHYSICAL_SPACE_SIZE) {
      throw new MemoryMapError(
        ramSize > PHYSICAL_SPACE_SIZE ? 'out-of-range' : 'invalid-argument',
        'ram',
        `RAM size ${String(ramSize)} is not usable: give a multiple of 4096 bytes between 0 and 4 GiB.`,
      );
    }
    this.ramSize = ramSize;
    const hostBytes = Math.ceil(Math.max(0, options.hostAreaBytes ?? 0) / WASM_PAGE) * WASM_PAGE;
    const wasm = hostBytes > 0 ? wasmMemoryFor(hostBytes + ramSize) : null;
    if (wasm !== null) {
      this.wasmMemory = wasm;
      this.hostArea = new Uint8Array(wasm.buffer, 0, hostBytes);
      this.ram = new Uint8Array(wasm.buffer, hostBytes, ramSize);
    } else {
      this.ram = new Uint8Array(ramSize);
    }
    this.pageMap.fill(PAGE_RAM, 0, ramSize / PAGE_SIZE);
  }

  /**
   * Maps a copy of `bytes` as read-only memory at `base`, on top of RAM or a hole. Guest writes to it
   * are ignored. Throws {@link MemoryMapError} if it overlaps another ROM/MMIO region or does not fit
   * below 4 GiB.
   */
  addRom(base: GuestPhys, bytes: Uint8Array, name: string): void {
    this.addRegion(new Region(KIND_ROM, name, base, base + bytes.length, bytes.slice(), NO_HANDLER), 'ROM');
  }

  /**
   * Routes accesses to `[base, base + size)` to `handler`, with the offset within the range and the
   * access width. Any alignment and size are accepted; several ranges may share a page. MMIO takes
   * precedence over RAM under it (a hole punched into RAM). Throws {@link MemoryMapError} if the
   * range overlaps another ROM/MMIO region or does not fit below 4 GiB.
   */
  addMmio(base: GuestPhys, size: number, handler: MmioHandler, name: string): void {
    this.addRegion(new Region(KIND_MMIO, name, base, base + size, NO_ROM_BYTES, handler), 'MMIO');
  }

  /** The memory map as data: RAM first, then ROM and MMIO ranges in address order. */
  describe(): MemoryRegionInfo[] {
    const out: MemoryRegionInfo[] = [{ name: 'ram', kind: 'ram', base: 0, size: this.ramSize }];
    for (const r of this.regions) {
      out.push({ name: r.name, kind: r.kind === KIND_ROM ? 'rom' : 'mmio', base: r.base, size: r.end - r.base });
    }
    return out;
  }

  /** True when every byte of `page` (`addr >>> 12`) is plain RAM, so `ram` may be used directly. */
  isRamPage(page: number): boolean {
    return (this.pageMap[page] & PAGE_RAM) !== 0;
  }

  /**
   * Marks physical `page` as holding decoded code: the next write into its RAM (by the CPU or by
   * DMA) calls {@link PhysicalMemory.onCodeWrite} once and clears the mark.
   */
  markCodePage(page: number): void {
    if (page >= 0 && page < PAGE_COUNT) this.pageMap[page] |= PAGE_CODE;
  }

  /** True while `page` is marked by {@link PhysicalMemory.markCodePage} and not yet written. */
  isCodePage(page: number): boolean {
    return (this.pageMap[page] & PAGE_CODE) !== 0;
  }

  // ---- CPU hot path: plain numbers -------------------------------------------------------------

  /** Reads one byte at physical `addr`. */
  readPhys8(addr: number): number {
    if ((addr >>> 0) === addr && (this.pageMap[addr >>> PAGE_SHIFT] & PAGE_RAM) !== 0) return this.ram[addr];
    const a = normalize(addr);
    return a < 0 ? 0xff : this.readByteAt(a);
  }

  /** Reads a little-endian 16-bit value at physical `addr`. */
  readPhys16(addr: number): number {
    if ((addr >>> 0) === addr && (addr & PAGE_MASK) !== PAGE_MASK && (this.pageMap[addr >>> PAGE_SHIFT] & PAGE_RAM) !== 0) {
      const ram = this.ram;
      return ram[addr] | (ram[addr + 1] << 8);
    }
    return this.readSlow16(addr);
  }

  /** Reads a little-endian 32-bit value at physical `addr` (unsigned). */
  readPhys32(addr: number): number {
    if ((addr >>> 0) === addr && (addr & PAGE_MASK) <= PAGE_SIZE - 4 && (this.pageMap[addr >>> PAGE_SHIFT] & PAGE_RAM) !== 0) {
      const ram = this.ram;
      return (ram[addr] | (ram[addr + 1] << 8) | (ram[addr + 2] << 16) | (ram[addr + 3] << 24)) >>> 0;
    }
    return this.readSlow32(addr);
  }

  /** Writes one byte at physical `addr`. */
  writePhys8(addr: number, v: number): void {
    if ((addr >>> 0) === addr && this.pageMap[addr >>> PAGE_SHIFT] === PAGE_RAM) {
      this.ram[addr] = v;
      return;
    }
    const a = normalize(addr);
    if (a >= 0 && this.writeByteAt(a, v) !== 0) this.codeWritten(a >>> PAGE_SHIFT);
  }

  /** Writes a little-endian 16-bit value at physical `addr`. */
  writePhys16(addr: number, v: number): void {
    if ((addr >>> 0) === addr && (addr & PAGE_MASK) !== PAGE_MASK && this.pageMap[addr >>> PAGE_SHIFT] === PAGE_RAM) {
      const ram = this.ram;
      ram[addr] = v;
      ram[addr + 1] = v >>> 8;
      return;
    }
    this.writeSlow16(addr, v);
  }

  /** Writes a little-endian 32-bit value at physical `addr`. */
  writePhys32(addr: number, v: number): void {
    if ((addr >>> 0) === addr && (addr & PAGE_MASK) <= PAGE_SIZE - 4 && this.pageMap[addr >>> PAGE_SHIFT] === PAGE_RAM) {
      const ram = this.ram;
      ram[addr] = v;
      ram[addr + 1] = v >>> 8;
      ram[addr + 2] = v >>> 16;
      ram[addr + 3] = v >>> 24;
      return;
    }
    this.writeSlow32(addr, v);
  }

  // ---- MemoryBus: the DMA view -----------------------------------------------------------------

  /** {@inheritDoc MemoryBus.read8} */
  read8(addr: GuestPhys): number {
    return this.readPhys8(addr);
  }

  /** {@inheritDoc MemoryBus.read16} */
  read16(addr: GuestPhys): number {
    return this.readPhys16(addr);
  }

  /** {@inheritDoc MemoryBus.read32} */
  read32(addr: GuestPhys): number {
    return this.readPhys32(addr);
  }

  /** {@inheritDoc MemoryBus.write8} */
  write8(addr: GuestPhys, value: number): void {
    this.writePhys8(addr, value);
  }

  /** {@inheritDoc MemoryBus.write16} */
  write16(addr: GuestPhys, value: number): void {
    this.writePhys16(addr, value);
  }

  /** {@inheritDoc MemoryBus.write32} */
  write32(addr: GuestPhys, value: number): void {
    this.writePhys32(addr, value);
  }

  /** {@inheritDoc MemoryBus.readBytes} */
  readBytes(addr: GuestPhys, dst: Uint8Array): number {
    const start = normalize(addr);
    if (start < 0) return 0;
    const total = Math.min(dst.length, PHYSICAL_SPACE_SIZE - start);
    const map = this.pageMap;
    let done = 0;
    while (done < total) {
      const a = start + done;
      if ((map[a >>> PAGE_SHIFT] & PAGE_RAM) !== 0) {
        const n = this.ramRunLength(a, total - done, PAGE_RAM);
        dst.set(this.ram.subarray(a, a + n), done);
        done += n;
        continue;
      }
      // A page with overlays or a hole: byte by byte, stopping at MMIO or an unbacked byte.
      const b = this.dmaReadByte(a);
      if (b < 0) break;
      dst[done++] = b;
    }
    return done;
  }

  /** {@inheritDoc MemoryBus.writeBytes} */
  writeBytes(addr: GuestPhys, src: Uint8Array): number {
    const start = normalize(addr);
    if (start < 0) return 0;
    const total = Math.min(src.length, PHYSICAL_SPACE_SIZE - start);
    const map = this.pageMap;
    let done = 0;
    while (done < total) {
      const a = start + done;
      if ((map[a >>> PAGE_SHIFT] & PAGE_RAM) !== 0) {
        const n = this.ramRunLength(a, total - done, PAGE_RAM);
        this.ram.set(src.subarray(done, done + n), a);
        done += n;
        continue;
      }
      if (!this.dmaWriteByte(a, src[done])) break;
      done++;
    }
    // Every page in [start, start + done) received RAM bytes (the copy stops at anything else).
    if (done > 0) this.notifyCodePages(start >>> PAGE_SHIFT, (start + done - 1) >>> PAGE_SHIFT);
    return done;
  }

  // ---- slow paths ------------------------------------------------------------------------------

  /** Length of the run of plain-RAM bytes starting at `a`, capped at `max`. */
  private ramRunLength(a: number, max: number, flag: number): number {
    const map = this.pageMap;
    let n = Math.min(max, PAGE_SIZE - (a & PAGE_MASK));
    while (n < max && (map[(a + n) >>> PAGE_SHIFT] & flag) !== 0) n = Math.min(max, n + PAGE_SIZE);
    return n;
  }

  private notifyCodePages(first: number, last: number): void {
    const map = this.pageMap;
    for (let p = first; p <= last; p++) {
      if ((map[p] & PAGE_CODE) !== 0) this.codeWritten(p);
    }
  }

  private codeWritten(page: number): void {
    this.pageMap[page] &= ~PAGE_CODE;
    const callback = this.onCodeWrite;
    if (callback !== null) callback(page);
  }

  /** The region containing uint32 `a`, or null. Binary search: there are few regions. */
  private findRegion(a: number): Region | null {
    const regions = this.regions;
    let lo = 0;
    let hi = regions.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const r = regions[mid];
      if (a < r.base) hi = mid - 1;
      else if (a >= r.end) lo = mid + 1;
      else return r;
    }
    return null;
  }

  /** The MMIO region holding all of `[a, a + size)`, or null (then the access is split by bytes). */
  private mmioSpanning(a: number, size: number): Region | null {
    if ((this.pageMap[a >>> PAGE_SHIFT] & PAGE_REGIONS) === 0) return null;
    const r = this.findRegion(a);
    return r !== null && r.kind === KIND_MMIO && a + size <= r.end ? r : null;
  }

  private readByteAt(a: number): number {
    const m = this.pageMap[a >>> PAGE_SHIFT];
    if ((m & PAGE_RAM) !== 0) return this.ram[a];
    if ((m & PAGE_REGIONS) !== 0) {
      const r = this.findRegion(a);
      if (r !== null) return r.kind === KIND_ROM ? r.bytes[a - r.base] : r.handler.read(a - r.base, 1) & 0xff;
      if (a < this.ramSize) return this.ram[a];
    }
    return 0xff;
  }

  /**
   * Writes one byte wherever it belongs. Returns 1 when it changed RAM of a marked code page; the
   * caller notifies once the whole access is in memory.
   */
  private writeByteAt(a: number, v: number): number {
    const m = this.pageMap[a >>> PAGE_SHIFT];
    if ((m & PAGE_REGIONS) !== 0) {
      const r = this.findRegion(a);
      if (r !== null) {
        if (r.kind === KIND_MMIO) r.handler.write(a - r.base, 1, v & 0xff);
        return 0;
      }
      if (a >= this.ramSize) return 0;
    } else if ((m & PAGE_RAM) === 0) {
      return 0;
    }
    this.ram[a] = v;
    return (m & PAGE_CODE) !== 0 ? 1 : 0;
  }

  /** Notifies the code pages an access of `size` bytes at `a` wrote RAM into (`hits`: bit 0 first page, bit 1 next). */
  private notifySplitWrite(a: number, hits: number): void {
    if ((hits & 1) !== 0) this.codeWritten(a >>> PAGE_SHIFT);
    if ((hits & 2) !== 0) this.codeWritten((a >>> PAGE_SHIFT) + 1);
  }

  /** A ROM/RAM byte for DMA, or -1 where the transfer must stop (MMIO or hole). */
  private dmaReadByte(a: number): number {
    if ((this.pageMap[a >>> PAGE_SHIFT] & PAGE_REGIONS) !== 0) {
      const r = this.findRegion(a);
      if (r !== null) return r.kind === KIND_ROM ? r.bytes[a - r.base] : -1;
    }
    return a < this.ramSize ? this.ram[a] : -1;
  }

  /** Writes a RAM byte for DMA; false where the transfer must stop (ROM, MMIO or hole). */
  private dmaWriteByte(a: number, v: number): boolean {
    if ((this.pageMap[a >>> PAGE_SHIFT] & PAGE_REGIONS) !== 0 && this.findRegion(a) !== null) return false;
    if (a >= this.ramSize) return false;
    this.ram[a] = v;
    return true;
  }

  private readSlow16(addr: number): number {
    const a = normalize(addr);
    if (a < 0) return 0xffff;
    const r = this.mmioSpanning(a, 2);
    if (r !== null) return r.handler.read(a - r.base, 2) & 0xffff;
    const hi = a + 1 < PHYSICAL_SPACE_SIZE ? this.readByteAt(a + 1) : 0xff;
    return this.readByteAt(a) | (hi << 8);
  }

  private readSlow32(addr: number): number {
    const a = normalize(addr);
    if (a < 0) return 0xffffffff;
    const r = this.mmioSpanning(a, 4);
    if (r !== null) return r.handler.read(a - r.base, 4) >>> 0;
    let value = 0;
    for (let i = 3; i >= 0; i--) {
      const b = a + i < PHYSICAL_SPACE_SIZE ? this.readByteAt(a + i) : 0xff;
      value = (value << 8) | b;
    }
    return value >>> 0;
  }

  private writeSlow16(addr: number, v: number): void {
    const a = normalize(addr);
    if (a < 0) return;
    const r = this.mmioSpanning(a, 2);
    if (r !== null) {
      r.handler.write(a - r.base, 2, v & 0xffff);
      return;
    }
    let hits = this.writeByteAt(a, v & 0xff);
    const b = a + 1;
    if (b < PHYSICAL_SPACE_SIZE) hits |= this.writeByteAt(b, (v >>> 8) & 0xff) << ((b ^ a) >>> PAGE_SHIFT !== 0 ? 1 : 0);
    if (hits !== 0) this.notifySplitWrite(a, hits);
  }

  private writeSlow32(addr: number, v: number): void {
    const a = normalize(addr);
    if (a < 0) return;
    const r = this.mmioSpanning(a, 4);
    if (r !== null) {
      r.handler.write(a - r.base, 4, v >>> 0);
      return;
    }
    let hits = 0;
    for (let i = 0; i < 4; i++) {
      const b = a + i;
      if (b < PHYSICAL_SPACE_SIZE) hits |= this.writeByteAt(b, (v >>> (8 * i)) & 0xff) << ((b ^ a) >>> PAGE_SHIFT !== 0 ? 1 : 0);
    }
    if (hits !== 0) this.notifySplitWrite(a, hits);
  }

  // ---- set-up --------------------------------------------------------------------------------

  private addRegion(region: Region, label: string): void {
    const { base, end, name } = region;
    const size = end - base;
    if (!Number.isInteger(base) || !Number.isInteger(size) || base < 0 || size <= 0) {
      throw new MemoryMapError(
        'invalid-argument',
        name,
        `${label} region "${name}" at ${hex(base)} with size ${String(size)} is not usable: base must be a non-negative integer and size a positive integer.`,
      );
    }
    if (end > PHYSICAL_SPACE_SIZE) {
      throw new MemoryMapError(
        'out-of-range',
        name,
        `${label} region "${name}" [${hex(base)}, ${hex(end)}) extends beyond the 4 GiB physical space; move it below 0x100000000.`,
      );
    }
    for (const other of this.regions) {
      if (base < other.end && other.base < end) {
        const otherLabel = other.kind === KIND_ROM ? 'ROM' : 'MMIO';
        throw new MemoryMapError(
          'overlap',
          name,
          `${label} region "${name}" [${hex(base)}, ${hex(end)}) overlaps ${otherLabel} region "${other.name}" [${hex(other.base)}, ${hex(other.end)}); move or shrink one of them.`,
          other.name,
        );
      }
    }
    let at = 0;
    while (at < this.regions.length && this.regions[at].base < base) at++;
    this.regions.splice(at, 0, region);
    const map = this.pageMap;
    const lastPage = (end - 1) >>> PAGE_SHIFT;
    for (let p = base >>> PAGE_SHIFT; p <= lastPage; p++) map[p] = (map[p] & PAGE_CODE) | PAGE_REGIONS;
  }
}

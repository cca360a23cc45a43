/** Builders of synthetic boot images for the loader tests. */

export interface FakeBzImageOptions {
  version?: number;
  setupSects?: number;
  loadflags?: number;
  code32Start?: number;
  initrdAddrMax?: number;
  kernelAlignment?: number;
  relocatable?: boolean;
  cmdlineSize?: number;
  prefAddress?: number;
  initSize?: number;
  kernelBytes?: number;
  /** Declared protected-mode size in bytes (syssize * 16); defaults to kernelBytes. */
  declaredKernelBytes?: number;
}

/** A bzImage with a real-looking setup header and `kernelBytes` of patterned kernel. */
export function fakeBzImage(options: FakeBzImageOptions = {}): Uint8Array {
  const setupSects = options.setupSects ?? 4;
  const kernelBytes = options.kernelBytes ?? 64 * 1024;
  const setupBytes = ((setupSects === 0 ? 4 : setupSects) + 1) * 512;
  const image = new Uint8Array(setupBytes + kernelBytes);
  const view = new DataView(image.buffer);
  image[0x1f1] = setupSects;
  view.setUint32(0x1f4, (options.declaredKernelBytes ?? kernelBytes) / 16, true);
  view.setUint16(0x1fe, 0xaa55, true);
  image[0x200] = 0xeb;
  image[0x201] = 0x6a; // header ends at 0x26c
  view.setUint32(0x202, 0x53726448, true);
  view.setUint16(0x206, options.version ?? 0x20f, true);
  image[0x211] = options.loadflags ?? 0x01;
  view.setUint32(0x214, options.code32Start ?? 0x100000, true);
  view.setUint32(0x22c, options.initrdAddrMax ?? 0x7fffffff, true);
  view.setUint32(0x230, options.kernelAlignment ?? 0x200000, true);
  image[0x234] = options.relocatable ? 1 : 0;
  view.setUint32(0x238, options.cmdlineSize ?? 0x7ff, true);
  view.setBigUint64(0x258, BigInt(options.prefAddress ?? 0x1000000), true);
  view.setUint32(0x260, options.initSize ?? 0x400000, true);
  for (let i = setupBytes; i < image.length; i++) image[i] = (i * 7) & 0xff;
  return image;
}

/** A multiboot kernel using the a.out kludge: header at offset 0, loaded at `loadAddr`. */
export function fakeMultibootAout(code: Uint8Array, loadAddr = 0x100000, bss = 0x1000): Uint8Array {
  const headerSize = 32;
  const image = new Uint8Array(headerSize + code.length);
  const view = new DataView(image.buffer);
  const flags = 0x00010003;
  view.setUint32(0, 0x1badb002, true);
  view.setUint32(4, flags, true);
  view.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
  view.setUint32(12, loadAddr, true); // header_addr
  view.setUint32(16, loadAddr, true); // load_addr
  view.setUint32(20, loadAddr + image.length, true); // load_end_addr
  view.setUint32(24, loadAddr + image.length + bss, true); // bss_end_addr
  view.setUint32(28, loadAddr + headerSize, true); // entry
  image.set(code, headerSize);
  return image;
}

/** A minimal ELF32 executable with one PT_LOAD segment and a multiboot header (no address fields). */
export function fakeMultibootElf(code: Uint8Array, paddr = 0x200000, bss = 0x800): Uint8Array {
  const ehsize = 52;
  const phsize = 32;
  const mbOffset = ehsize + phsize;
  const dataOffset = mbOffset + 12;
  const image = new Uint8Array(dataOffset + code.length);
  const view = new DataView(image.buffer);
  image.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1], 0);
  view.setUint16(16, 2, true); // ET_EXEC
  view.setUint16(18, 3, true); // EM_386
  view.setUint32(20, 1, true);
  view.setUint32(24, paddr + mbOffset + 12, true); // entry: first code byte
  view.setUint32(28, ehsize, true); // phoff
  view.setUint16(40, ehsize, true);
  view.setUint16(42, phsize, true);
  view.setUint16(44, 1, true);
  // PT_LOAD covering the whole file at paddr
  view.setUint32(ehsize, 1, true);
  view.setUint32(ehsize + 4, 0, true);
  view.setUint32(ehsize + 8, paddr, true);
  view.setUint32(ehsize + 12, paddr, true);
  view.setUint32(ehsize + 16, image.length, true);
  view.setUint32(ehsize + 20, image.length + bss, true);
  view.setUint32(ehsize + 24, 5, true);
  view.setUint32(mbOffset, 0x1badb002, true);
  view.setUint32(mbOffset + 4, 0x3, true);
  view.setUint32(mbOffset + 8, (-(0x1badb002 + 3)) >>> 0, true);
  image.set(code, dataOffset);
  return image;
}

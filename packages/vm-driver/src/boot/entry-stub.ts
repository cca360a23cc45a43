import type { ProtectedModeEntry, RomMapping } from './boot-plan.js';

/** Where the boot ROM is mapped: the last 4 KiB below 4 GiB, so it holds the reset vector. */
export const BOOT_ROM_BASE = 0xffff_f000;
/** Size of the boot ROM. */
export const BOOT_ROM_SIZE = 0x1000;
/** Code selector of the boot GDT (Linux `__BOOT_CS`). */
export const BOOT_CS = 0x10;
/** Data selector of the boot GDT (Linux `__BOOT_DS`). */
export const BOOT_DS = 0x18;

const GDT_POINTER_OFFSET = 0x100;
const GDT_OFFSET = 0x110;
const RESET_VECTOR_OFFSET = 0xff0;
/** Real-mode CS after reset has base 0xFFFF0000, so ROM offset `o` is IP 0xF000 + o. */
const REAL_MODE_IP_OF_ROM = 0xf000;

/**
 * Builds the boot ROM that takes the CPU from the reset vector to a kernel's 32-bit entry point, the
 * way a firmware plus boot loader would: enable A20 through port 0x92, load a GDT with flat 4 GiB
 * segments at the selectors the Linux boot protocol names (__BOOT_CS = 0x10, __BOOT_DS = 0x18), set
 * CR0.PE, load the data segments, the entry registers, and far-jump to the entry with interrupts off
 * and paging off. Using only architectural behaviour (no back door into the CPU) keeps any CPU engine
 * that implements reset() usable.
 */
export function buildBootRom(entry: ProtectedModeEntry): RomMapping {
  const rom = new Uint8Array(BOOT_ROM_SIZE);
  const view = new DataView(rom.buffer);
  let at = 0;
  const emit = (...bytes: number[]): void => {
    for (const byte of bytes) rom[at++] = byte;
  };
  const emit32 = (value: number): void => {
    view.setUint32(at, value >>> 0, true);
    at += 4;
  };

  // 16-bit real mode, CS:IP = F000:F000.
  emit(0xfa); // cli
  emit(0xfc); // cld
  emit(0xe4, 0x92, 0x0c, 0x02, 0x24, 0xfe, 0xe6, 0x92); // in al,0x92; or al,2; and al,0xfe (no reset); out 0x92,al
  const gdtPointerIp = REAL_MODE_IP_OF_ROM + GDT_POINTER_OFFSET;
  emit(0x2e, 0x66, 0x0f, 0x01, 0x16, gdtPointerIp & 0xff, gdtPointerIp >>> 8); // o32 lgdt cs:[gdt_pointer]
  emit(0x0f, 0x20, 0xc0); // mov eax, cr0
  emit(0x0c, 0x01); // or al, 1 (PE)
  emit(0x0f, 0x22, 0xc0); // mov cr0, eax
  emit(0x66, 0xea); // jmp dword BOOT_CS:protected_mode
  const farTarget = at;
  at += 4;
  emit(BOOT_CS, 0x00);
  view.setUint32(farTarget, BOOT_ROM_BASE + at, true);

  // 32-bit protected mode, flat segments.
  emit(0xb8);
  emit32(BOOT_DS); // mov eax, __BOOT_DS
  emit(0x8e, 0xd8, 0x8e, 0xc0, 0x8e, 0xe0, 0x8e, 0xe8, 0x8e, 0xd0); // mov ds/es/fs/gs/ss, ax
  const loads: [number, number][] = [
    [0xbc, entry.esp], [0xbd, entry.ebp], [0xbe, entry.esi], [0xbf, entry.edi],
    [0xbb, entry.ebx], [0xb9, entry.ecx], [0xba, entry.edx], [0xb8, entry.eax],
  ];
  for (const [opcode, value] of loads) {
    emit(opcode);
    emit32(value);
  }
  emit(0xea); // jmp BOOT_CS:entry
  emit32(entry.entry);
  emit(BOOT_CS, 0x00);

  // GDT pointer (limit, 32-bit base) and the GDT: null, unused, flat code, flat data. The accessed bits
  // are preset because the CPU cannot set them in ROM.
  view.setUint16(GDT_POINTER_OFFSET, 4 * 8 - 1, true);
  view.setUint32(GDT_POINTER_OFFSET + 2, BOOT_ROM_BASE + GDT_OFFSET, true);
  rom.set([0xff, 0xff, 0x00, 0x00, 0x00, 0x9b, 0xcf, 0x00], GDT_OFFSET + BOOT_CS);
  rom.set([0xff, 0xff, 0x00, 0x00, 0x00, 0x93, 0xcf, 0x00], GDT_OFFSET + BOOT_DS);

  // Reset vector (F000:FFF0): jmp near F000:F000.
  const jumpDisplacement = (REAL_MODE_IP_OF_ROM - (REAL_MODE_IP_OF_ROM + RESET_VECTOR_OFFSET + 3)) & 0xffff;
  rom.set([0xe9, jumpDisplacement & 0xff, jumpDisplacement >>> 8], RESET_VECTOR_OFFSET);
  return { address: BOOT_ROM_BASE, bytes: rom, name: 'boot ROM (reset vector -> 32-bit entry)' };
}

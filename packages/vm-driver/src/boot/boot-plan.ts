/**
 * What a boot loader produces: bytes to copy into RAM, ROMs to map, and a description of the entry
 * state. The machine applies a plan to fresh memory and then resets the CPU; nothing here touches a
 * CPU or memory object, so every loader is a pure function that tests can check byte by byte.
 */

/** Bytes copied into guest RAM at `address` before the CPU starts. */
export interface RamSegment {
  readonly address: number;
  readonly bytes: Uint8Array;
  /** What the bytes are, for errors and `--verbose` output. */
  readonly name: string;
}

/** A read-only region mapped at `address` (writes are ignored, like a flash chip). */
export interface RomMapping {
  readonly address: number;
  readonly bytes: Uint8Array;
  readonly name: string;
}

/** The register values a kernel expects at its 32-bit entry point. */
export interface ProtectedModeEntry {
  /** Linear address of the first instruction (flat segments). */
  readonly entry: number;
  readonly eax: number;
  readonly ebx: number;
  readonly ecx: number;
  readonly edx: number;
  readonly esi: number;
  readonly edi: number;
  readonly ebp: number;
  readonly esp: number;
}

/** A complete boot plan. */
export interface BootPlan {
  /** Which loader built it. */
  readonly kind: 'linux' | 'multiboot' | 'firmware';
  readonly segments: readonly RamSegment[];
  readonly roms: readonly RomMapping[];
  /** For kernels: the 32-bit entry state reached through the boot ROM; `null` when a firmware ROM
   *  starts from the reset vector itself. */
  readonly entry: ProtectedModeEntry | null;
  /** One line per loaded part, for `--verbose`. */
  readonly summary: readonly string[];
}

/** Formats an address the way the summaries and error messages show it. */
export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

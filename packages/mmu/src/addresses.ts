/**
 * Address types used at package boundaries. Guest-physical and guest-linear addresses are both plain
 * numbers at run time; the brands stop a caller from handing a linear address to a device's DMA path
 * (or the reverse) without saying so. Hot paths inside the CPU use unbranded numbers.
 */

/** A guest-physical address (what a device's DMA or the page walker sees). */
export type GuestPhys = number & { readonly __brand: 'GuestPhys' };

/** A guest-linear address (after segmentation, before paging). */
export type GuestLinear = number & { readonly __brand: 'GuestLinear' };

/** Width of one memory access in bytes. */
export type AccessSize = 1 | 2 | 4;

/**
 * Brands `value` as a guest-physical address. It is not range-checked here: addresses beyond the
 * 4 GiB physical space are legal (PAE produces them) and read as all ones.
 *
 * @example
 * ```ts
 * declare const memory: PhysicalMemory;
 * memory.read32(guestPhys(0x1000));
 * ```
 */
export function guestPhys(value: number): GuestPhys {
  return value as GuestPhys;
}

/**
 * Brands `value` as a guest-linear address.
 *
 * @example
 * ```ts
 * const where = guestLinear(0xc0000000);
 * ```
 */
export function guestLinear(value: number): GuestLinear {
  return value as GuestLinear;
}

/** Size of a page in bytes (4 KiB). */
export const PAGE_SIZE = 0x1000;

/** Number of bits of the page offset (`addr >>> PAGE_SHIFT` is the page number). */
export const PAGE_SHIFT = 12;

/** Size of the 32-bit physical address space in bytes (4 GiB). */
export const PHYSICAL_SPACE_SIZE = 0x1_0000_0000;

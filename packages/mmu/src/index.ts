/**
 * @packageDocumentation
 * Guest physical memory (RAM, ROM overlays, MMIO ranges, holes) and x86 paging (32-bit with PSE,
 * PAE with NX) with a flat software TLB, for the typevisor i686 machine.
 */
export type { AccessSize, GuestLinear, GuestPhys } from './addresses.js';
export { PAGE_SHIFT, PAGE_SIZE, PHYSICAL_SPACE_SIZE, guestLinear, guestPhys } from './addresses.js';
export type { MemoryMapErrorCode } from './errors.js';
export { MemoryMapError } from './errors.js';
export type { MemoryBus, MmioHandler } from './memory-bus.js';
export type { MemoryRegionInfo, PhysicalMemoryOptions } from './physical-memory.js';
export { PhysicalMemory } from './physical-memory.js';
export type { AccessKindValue } from './paging.js';
export { AccessKind, ControlBit, PageFaultError, Paging } from './paging.js';
export { TLB_ALL_ACCESS, TLB_FRAME_MASK, TlbFlag, tlbAccessBit } from './tlb.js';

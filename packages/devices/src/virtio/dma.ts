// The one place virtio code imports guest-memory types from, so devices stay on the mmu contract.
export type { GuestPhys, MemoryBus } from '@typevisor/mmu';

import { LOW_MEMORY } from '../layout.js';

/** e820 range types (ACPI specification, "System Address Map Interfaces"). */
export const E820Type = { Ram: 1, Reserved: 2, Acpi: 3, Nvs: 4, Unusable: 5 } as const;
/** One of the {@link E820Type} values. */
export type E820TypeValue = (typeof E820Type)[keyof typeof E820Type];

/** One entry of the physical memory map handed to the guest. */
export interface E820Entry {
  readonly address: number;
  readonly size: number;
  readonly type: E820TypeValue;
}

/**
 * The memory map of the microVM: conventional RAM up to the EBDA, the EBDA and the BIOS area (where
 * the ACPI tables live) reserved, and RAM from 1 MiB to the top of guest memory. MMIO above RAM is
 * not listed, so the guest never puts anything there.
 */
export function microvmE820(memorySize: number): E820Entry[] {
  return [
    { address: 0, size: LOW_MEMORY.ebda, type: E820Type.Ram },
    { address: LOW_MEMORY.ebda, size: 0xa0000 - LOW_MEMORY.ebda, type: E820Type.Reserved },
    { address: LOW_MEMORY.acpiTables, size: LOW_MEMORY.acpiTablesSize, type: E820Type.Acpi },
    {
      address: LOW_MEMORY.acpiTables + LOW_MEMORY.acpiTablesSize,
      size: LOW_MEMORY.highMemory - (LOW_MEMORY.acpiTables + LOW_MEMORY.acpiTablesSize),
      type: E820Type.Reserved,
    },
    { address: LOW_MEMORY.highMemory, size: memorySize - LOW_MEMORY.highMemory, type: E820Type.Ram },
  ];
}

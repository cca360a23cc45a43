// The PC chipset devices. Filled in by the chipset work; see ../types.ts for the shared interfaces.
export {};

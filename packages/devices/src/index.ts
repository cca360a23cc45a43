/**
 * Device models for microVMs: virtio over MMIO and the PC chipset.
 *
 * @packageDocumentation
 */
export * from './types.js';
export * from './virtio/index.js';
export * from './pc/index.js';

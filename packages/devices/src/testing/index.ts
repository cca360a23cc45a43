/**
 * Test kit for `@typevisor/devices` (import from `@typevisor/devices/testing`): a fake virtio guest
 * driver that lays out descriptor tables and rings in guest memory so any virtio device can be
 * tested alone, a fake guest memory, a manual clock and a recording IRQ line.
 *
 * @packageDocumentation
 */
export { FakeGuestMemory } from './fake-guest-memory.js';
export { ManualClock } from './manual-clock.js';
export { RecordingIrqLine } from './recording-irq-line.js';
export {
  TestQueue,
  VirtioTestDriver,
  VirtioTestDriverError,
  type DriverInitOptions,
  type SubmitOptions,
  type TestBuffer,
  type UsedBuffer,
  type VirtioTestDriverOptions,
} from './virtio-test-driver.js';
export {
  VirtioFuzzInput,
  VirtioFuzzInvariantError,
  defaultVirtioFuzzTargets,
  runVirtioFuzzInput,
  type VirtioFuzzResult,
  type VirtioFuzzTarget,
} from './virtio-fuzz.js';

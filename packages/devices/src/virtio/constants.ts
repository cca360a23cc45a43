/**
 * Numbers from the virtio 1.x specification, named so the code reads like the spec. Feature bits are
 * bit *numbers* (0..63); {@link FeatureSet} turns them into masks.
 */

/** Device status bits (spec 2.1). */
export const DeviceStatus = {
  /** The guest OS has found the device. */
  ACKNOWLEDGE: 1,
  /** The guest OS knows how to drive the device. */
  DRIVER: 2,
  /** The driver is set up and ready to drive the device. */
  DRIVER_OK: 4,
  /** The driver has acknowledged the features it understands; negotiation is complete. */
  FEATURES_OK: 8,
  /** The device hit an error it cannot recover from without a reset. */
  DEVICE_NEEDS_RESET: 64,
  /** The driver has given up on the device. */
  FAILED: 128,
} as const;

/** Device IDs (spec 5). */
export const VirtioDeviceId = {
  NET: 1,
  BLOCK: 2,
  CONSOLE: 3,
  ENTROPY: 4,
} as const;

/** Transport- and ring-level feature bit numbers (spec 6). */
export const VirtioFeature = {
  /** Descriptors may refer to indirect descriptor tables. */
  RING_INDIRECT_DESC: 28,
  /** used_event / avail_event notification suppression. */
  RING_EVENT_IDX: 29,
  /** Compliance with virtio 1.x (mandatory here: legacy devices are not offered). */
  VERSION_1: 32,
} as const;

/** virtio-mmio register offsets (spec 4.2.2). All registers are 32 bits wide. */
export const MmioRegister = {
  MAGIC_VALUE: 0x000,
  VERSION: 0x004,
  DEVICE_ID: 0x008,
  VENDOR_ID: 0x00c,
  DEVICE_FEATURES: 0x010,
  DEVICE_FEATURES_SEL: 0x014,
  DRIVER_FEATURES: 0x020,
  DRIVER_FEATURES_SEL: 0x024,
  QUEUE_SEL: 0x030,
  QUEUE_NUM_MAX: 0x034,
  QUEUE_NUM: 0x038,
  QUEUE_READY: 0x044,
  QUEUE_NOTIFY: 0x050,
  INTERRUPT_STATUS: 0x060,
  INTERRUPT_ACK: 0x064,
  STATUS: 0x070,
  QUEUE_DESC_LOW: 0x080,
  QUEUE_DESC_HIGH: 0x084,
  QUEUE_DRIVER_LOW: 0x090,
  QUEUE_DRIVER_HIGH: 0x094,
  QUEUE_DEVICE_LOW: 0x0a0,
  QUEUE_DEVICE_HIGH: 0x0a4,
  CONFIG_GENERATION: 0x0fc,
  /** Device-specific configuration space starts here. */
  CONFIG: 0x100,
} as const;

/** "virt" in little-endian: the value of MagicValue. */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** The virtio-mmio transport version of a modern (virtio 1.x) device. */
export const VIRTIO_MMIO_VERSION = 2;
/** Vendor ID reported by typevisor devices ("TVSR" read as ASCII, little-endian). */
export const TYPEVISOR_VENDOR_ID = 0x52535654;
/** Size of a virtio-mmio register window, in bytes (registers + up to 3.75 KiB of config space). */
export const VIRTIO_MMIO_WINDOW_SIZE = 0x1000;

/** InterruptStatus bits (spec 4.2.2). */
export const InterruptBit = {
  /** The device used a buffer in at least one virtqueue. */
  USED_BUFFER: 1,
  /** The device configuration changed (or the device needs a reset). */
  CONFIG_CHANGE: 2,
} as const;

/** Split-virtqueue descriptor flags (spec 2.7.5). */
export const DescriptorFlag = {
  NEXT: 1,
  WRITE: 2,
  INDIRECT: 4,
} as const;

/** avail->flags: the driver does not want used-buffer interrupts (spec 2.7.7). */
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
/** used->flags: the device does not want available-buffer notifications (spec 2.7.10). */
export const VIRTQ_USED_F_NO_NOTIFY = 1;

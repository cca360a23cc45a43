// The virtio transport, queue and devices. See ../types.ts for the shared device interfaces.
export {
  DeviceStatus,
  DescriptorFlag,
  InterruptBit,
  MmioRegister,
  TYPEVISOR_VENDOR_ID,
  VIRTIO_MMIO_MAGIC,
  VIRTIO_MMIO_VERSION,
  VIRTIO_MMIO_WINDOW_SIZE,
  VIRTQ_AVAIL_F_NO_INTERRUPT,
  VIRTQ_USED_F_NO_NOTIFY,
  VirtioDeviceId,
  VirtioFeature,
} from './constants.js';
export { FeatureSet } from './features.js';
export { ConfigSpace } from './config-space.js';
export type { VirtioDevice, VirtioDeviceContext } from './device.js';
export type { VirtioTransportStats } from './stats.js';
export { VirtioMmioTransport, type VirtioMmioTransportOptions } from './mmio-transport.js';
export { DescriptorChain } from './queue/descriptor-chain.js';
export { QueueError, describeQueueError, type QueueErrorCode } from './queue/queue-error.js';
export {
  MAX_INDIRECT_DESCRIPTORS,
  MAX_QUEUE_SIZE,
  SplitQueue,
  type SplitQueueLayout,
  type SplitQueueState,
} from './queue/split-queue.js';
export {
  BLOCK_CONFIG_SIZE,
  BLOCK_ID_LENGTH,
  BlockConfigOffset,
  BlockFeature,
  BlockRequestType,
  BlockStatus,
  SECTOR_SIZE,
} from './blk/block-constants.js';
export { VirtioBlock, type VirtioBlockOptions, type VirtioBlockStats } from './blk/virtio-block.js';
export {
  MAX_FRAME_SIZE,
  NET_CONFIG_SIZE,
  NET_HEADER_SIZE,
  NetConfigOffset,
  NetFeature,
  NetLinkStatus,
  NetQueue,
} from './net/net-constants.js';
export { VirtioNet, type VirtioNetOptions, type VirtioNetStats } from './net/virtio-net.js';
export { CONSOLE_CONFIG_SIZE, ConsoleConfigOffset, ConsoleFeature, ConsoleQueue } from './console/console-constants.js';
export { VirtioConsole, type VirtioConsoleOptions, type VirtioConsoleStats } from './console/virtio-console.js';
export { VirtioRng, type VirtioRngOptions, type VirtioRngStats } from './rng/virtio-rng.js';
export { MemoryBlockBackend, type MemoryBlockBackendOptions } from './backends/memory-block-backend.js';
export { BufferCharBackend } from './backends/buffer-char-backend.js';
export { CryptoEntropySource } from './backends/crypto-entropy-source.js';
export { LoopbackNetBackend } from './backends/loopback-net-backend.js';
export {
  NetworkSwitch,
  NetworkSwitchPort,
  type NetworkSwitchOptions,
  type NetworkSwitchStats,
} from './backends/network-switch.js';

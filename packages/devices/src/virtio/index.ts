// The virtio transport, queue and devices. Filled in by the virtio work; see ../types.ts for the shared interfaces.
export {};

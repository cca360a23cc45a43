/** virtio-net feature bit numbers (spec 5.1.3) used by this device. */
export const NetFeature = {
  CSUM: 0,
  GUEST_CSUM: 1,
  MTU: 3,
  MAC: 5,
  MRG_RXBUF: 15,
  STATUS: 16,
  CTRL_VQ: 17,
  MQ: 22,
} as const;

/** Bits of the virtio-net config `status` field (spec 5.1.4). */
export const NetLinkStatus = {
  LINK_UP: 1,
  ANNOUNCE: 2,
} as const;

/** Byte offsets of virtio_net_config fields (spec 5.1.4). */
export const NetConfigOffset = {
  MAC: 0,
  STATUS: 6,
  MAX_VIRTQUEUE_PAIRS: 8,
  MTU: 10,
} as const;

/** Size of the config space exposed (mac, status, max_virtqueue_pairs, mtu). */
export const NET_CONFIG_SIZE = 12;
/** Size of struct virtio_net_hdr with num_buffers, always used by virtio 1.x devices. */
export const NET_HEADER_SIZE = 12;
/** Offset of num_buffers inside the header. */
export const NET_HEADER_NUM_BUFFERS = 10;
/** Largest Ethernet frame carried (64 KiB payload + header + VLAN tag, no FCS). */
export const MAX_FRAME_SIZE = 65535 + 18;
/** Queue indices. */
export const NetQueue = { RX: 0, TX: 1 } as const;

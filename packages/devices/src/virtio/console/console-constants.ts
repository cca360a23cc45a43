/** virtio-console feature bit numbers (spec 5.3.3). */
export const ConsoleFeature = {
  SIZE: 0,
  MULTIPORT: 1,
  EMERG_WRITE: 2,
} as const;

/** Byte offsets of virtio_console_config fields (spec 5.3.4). */
export const ConsoleConfigOffset = {
  COLS: 0,
  ROWS: 2,
  MAX_NR_PORTS: 4,
  EMERG_WR: 8,
} as const;

/** Size of the virtio-console config space. */
export const CONSOLE_CONFIG_SIZE = 12;
/** Queue indices of port 0. */
export const ConsoleQueue = { RX: 0, TX: 1 } as const;

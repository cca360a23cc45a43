/** virtio-blk feature bit numbers (spec 5.2.3). */
export const BlockFeature = {
  SIZE_MAX: 1,
  SEG_MAX: 2,
  GEOMETRY: 4,
  RO: 5,
  BLK_SIZE: 6,
  FLUSH: 9,
  TOPOLOGY: 10,
  CONFIG_WCE: 11,
  MQ: 12,
  DISCARD: 13,
  WRITE_ZEROES: 14,
} as const;

/** virtio-blk request types (spec 5.2.6). */
export const BlockRequestType = {
  IN: 0,
  OUT: 1,
  FLUSH: 4,
  GET_ID: 8,
  DISCARD: 11,
  WRITE_ZEROES: 13,
} as const;

/** virtio-blk request status byte values (spec 5.2.6). */
export const BlockStatus = {
  OK: 0,
  IOERR: 1,
  UNSUPP: 2,
} as const;

/** Byte offsets of the virtio_blk_config fields (spec 5.2.4). */
export const BlockConfigOffset = {
  CAPACITY: 0,
  SIZE_MAX: 8,
  SEG_MAX: 12,
  GEOMETRY: 16,
  BLK_SIZE: 20,
  TOPOLOGY: 24,
  WRITEBACK: 32,
  NUM_QUEUES: 34,
  MAX_DISCARD_SECTORS: 36,
  MAX_DISCARD_SEG: 40,
  DISCARD_SECTOR_ALIGNMENT: 44,
  MAX_WRITE_ZEROES_SECTORS: 48,
  MAX_WRITE_ZEROES_SEG: 52,
  WRITE_ZEROES_MAY_UNMAP: 56,
} as const;

/** Size of the virtio-blk configuration space this device exposes. */
export const BLOCK_CONFIG_SIZE = 60;
/** virtio-blk sectors are always 512 bytes, whatever blk_size says. */
export const SECTOR_SIZE = 512;
/** Bytes of the request header (type, reserved, sector). */
export const BLOCK_REQUEST_HEADER_SIZE = 16;
/** Bytes of one discard / write-zeroes segment (sector, num_sectors, flags). */
export const BLOCK_RANGE_SEGMENT_SIZE = 16;
/** Length of the GET_ID answer. */
export const BLOCK_ID_LENGTH = 20;

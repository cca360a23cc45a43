/**
 * Counters kept by a {@link VirtioMmioTransport}. Guest mistakes never throw; they are ignored and
 * counted here so a test (or an operator) can see what the guest did wrong.
 */
export interface VirtioTransportStats {
  /** Register accesses at a width other than 32 bits (or misaligned config accesses). */
  badWidthAccesses: number;
  /** Accesses to registers that do not exist or are not readable/writable that way. */
  unknownRegisterAccesses: number;
  /** Writes that are illegal in the current device status (e.g. QueueNum after DRIVER_OK). */
  illegalStateWrites: number;
  /** QueueNum / QueueReady writes with an invalid size or ring layout. */
  invalidQueueConfigs: number;
  /** Notifications of a queue that does not exist or is not ready, or before DRIVER_OK. */
  ignoredNotifications: number;
  /** FEATURES_OK writes refused because of unsupported or inconsistent features. */
  featureNegotiationFailures: number;
  /** Malformed queue contents that put the device in DEVICE_NEEDS_RESET. */
  queueErrors: number;
  /** Unexpected exceptions caught at the device boundary (a device bug; should stay 0). */
  internalErrors: number;
  /** Queue notifications handed to the device. */
  notifications: number;
  /** Used-buffer interrupts raised. */
  usedInterrupts: number;
  /** Configuration-change interrupts raised. */
  configInterrupts: number;
}

/** A zeroed {@link VirtioTransportStats}. */
export function createTransportStats(): VirtioTransportStats {
  return {
    badWidthAccesses: 0,
    unknownRegisterAccesses: 0,
    illegalStateWrites: 0,
    invalidQueueConfigs: 0,
    ignoredNotifications: 0,
    featureNegotiationFailures: 0,
    queueErrors: 0,
    internalErrors: 0,
    notifications: 0,
    usedInterrupts: 0,
    configInterrupts: 0,
  };
}

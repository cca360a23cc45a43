import type { EthernetFrame, NetBackend } from '../../types.js';

/**
 * A cable plugged back into the same NIC: every frame the guest sends is delivered back to it.
 * Delivery is synchronous and happens after `send` has recorded the frame.
 */
export class LoopbackNetBackend implements NetBackend {
  private receiver: ((frame: EthernetFrame) => void) | null = null;
  /** Frames looped back so far. */
  framesLooped = 0;

  /** @inheritDoc */
  send(frame: EthernetFrame): void {
    this.framesLooped++;
    this.receiver?.(frame);
  }

  /** @inheritDoc */
  setReceiver(receiver: ((frame: EthernetFrame) => void) | null): void {
    this.receiver = receiver;
  }
}

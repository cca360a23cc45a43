import type { VirtioDeviceContext } from '../device.js';
import type { DescriptorChain } from './descriptor-chain.js';
import type { SplitQueue } from './split-queue.js';

/**
 * Serves one popped chain: does the request and puts the chain in the used ring. Returns false to
 * stop serving (the queue broke, or the used ring could not be written).
 */
export type ChainHandler = (queue: SplitQueue, chain: DescriptorChain) => boolean;

/**
 * Serves every available chain of queue `index` with `handle` while available-buffer notifications
 * are off, then turns them back on and looks once more: a buffer the driver added in between would
 * otherwise wait for a kick the driver was told to skip. Ends with a used-buffer interrupt (when the
 * driver wants one). Does nothing while the device is not active or the queue not usable.
 *
 * Devices pass a handler created once (a field), so serving a request allocates nothing.
 */
export function serveQueue(context: VirtioDeviceContext | null, index: number, handle: ChainHandler): void {
  if (context === null || !context.active) return;
  const queue = context.queue(index);
  if (!queue.usable) return;
  queue.setNotifications(false);
  for (;;) {
    for (let chain = queue.pop(); chain !== null; chain = queue.pop()) {
      if (!handle(queue, chain)) break;
    }
    if (!queue.usable) break;
    queue.setNotifications(true);
    if (queue.pending() === 0) break;
    queue.setNotifications(false);
  }
  context.notifyUsed(index);
}

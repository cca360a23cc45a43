import type { EthernetFrame, NetBackend } from '../../types.js';

/** Options of a {@link NetworkSwitch}. */
export interface NetworkSwitchOptions {
  /** Most MAC addresses remembered; the oldest is forgotten first (default 1024). */
  readonly macTableSize?: number;
  /** Most ports (default 64). */
  readonly maxPorts?: number;
}

/** Counters of a {@link NetworkSwitch}. */
export interface NetworkSwitchStats {
  /** Frames delivered to exactly one learned port. */
  unicast: number;
  /** Frames flooded (broadcast, multicast, unknown destination). */
  flooded: number;
  /** Frames dropped (runt, or destination learned on the sending port). */
  dropped: number;
}

/** One port of a {@link NetworkSwitch}; give it to a virtio-net device as its backend. */
export class NetworkSwitchPort implements NetBackend {
  /** Port name (for diagnostics). */
  readonly name: string;
  /** @internal */
  receiver: ((frame: EthernetFrame) => void) | null = null;
  private readonly owner: NetworkSwitch;

  /** @internal Ports are created by {@link NetworkSwitch.connect}. */
  constructor(owner: NetworkSwitch, name: string) {
    this.owner = owner;
    this.name = name;
  }

  /** @inheritDoc */
  send(frame: EthernetFrame): void {
    this.owner.forward(this, frame);
  }

  /** @inheritDoc */
  setReceiver(receiver: ((frame: EthernetFrame) => void) | null): void {
    this.receiver = receiver;
  }

  /** Unplugs the port: it stops receiving and its learned addresses are forgotten. */
  disconnect(): void {
    this.owner.disconnect(this);
  }
}

/**
 * An in-process learning Ethernet switch connecting virtio-net devices (of one or several VMs in the
 * same thread). It learns source MACs per port, forwards known unicast to one port, and floods
 * broadcast, multicast and unknown destinations to every other port. Tables are bounded. A delivered
 * frame may be shared by several receivers, which must not modify it.
 *
 * @example
 * ```ts
 * const lan = new NetworkSwitch();
 * const a = new VirtioNet({ backend: lan.connect('a'), mac: [2, 0, 0, 0, 0, 1] });
 * const b = new VirtioNet({ backend: lan.connect('b'), mac: [2, 0, 0, 0, 0, 2] });
 * ```
 */
export class NetworkSwitch {
  /** Forwarding counters. */
  readonly stats: NetworkSwitchStats = { unicast: 0, flooded: 0, dropped: 0 };
  private readonly ports: NetworkSwitchPort[] = [];
  private readonly macTable = new Map<number, NetworkSwitchPort>();
  private readonly macTableSize: number;
  private readonly maxPorts: number;

  constructor(options: NetworkSwitchOptions = {}) {
    this.macTableSize = options.macTableSize ?? 1024;
    this.maxPorts = options.maxPorts ?? 64;
  }

  /** Adds a port and returns it as a {@link NetBackend}. Throws a RangeError when the switch is full. */
  connect(name?: string): NetworkSwitchPort {
    if (this.ports.length >= this.maxPorts) throw new RangeError(`network switch is full (${this.maxPorts} ports)`);
    const port = new NetworkSwitchPort(this, name ?? `port${this.ports.length}`);
    this.ports.push(port);
    return port;
  }

  /** Number of connected ports. */
  get portCount(): number {
    return this.ports.length;
  }

  /** Number of learned MAC addresses. */
  get learnedAddresses(): number {
    return this.macTable.size;
  }

  /** @internal Called by a port. */
  disconnect(port: NetworkSwitchPort): void {
    const index = this.ports.indexOf(port);
    if (index < 0) return;
    this.ports.splice(index, 1);
    port.receiver = null;
    for (const [mac, owner] of this.macTable) if (owner === port) this.macTable.delete(mac);
  }

  /** @internal Called by a port for every frame its device sends. */
  forward(from: NetworkSwitchPort, frame: EthernetFrame): void {
    if (frame.length < 14 || !this.ports.includes(from)) {
      this.stats.dropped++;
      return;
    }
    const source = macAt(frame, 6);
    if ((frame[6] & 1) === 0) this.learn(source, from);
    const destinationIsGroup = (frame[0] & 1) === 1;
    const target = destinationIsGroup ? undefined : this.macTable.get(macAt(frame, 0));
    if (target !== undefined) {
      if (target === from) {
        this.stats.dropped++;
        return;
      }
      this.stats.unicast++;
      target.receiver?.(frame);
      return;
    }
    this.stats.flooded++;
    // Copy the list: a receiver could disconnect a port while we iterate.
    for (const port of this.ports.slice()) if (port !== from) port.receiver?.(frame);
  }

  private learn(mac: number, port: NetworkSwitchPort): void {
    if (this.macTable.get(mac) === port) return;
    this.macTable.delete(mac);
    if (this.macTable.size >= this.macTableSize) {
      const oldest = this.macTable.keys().next();
      if (oldest.done !== true) this.macTable.delete(oldest.value);
    }
    this.macTable.set(mac, port);
  }
}

function macAt(frame: Uint8Array, offset: number): number {
  let mac = 0;
  for (let i = 0; i < 6; i++) mac = mac * 256 + frame[offset + i];
  return mac;
}

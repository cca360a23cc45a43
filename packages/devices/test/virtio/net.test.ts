import { describe, expect, it } from 'vitest';
import {
  FeatureSet,
  InterruptBit,
  LoopbackNetBackend,
  MmioRegister,
  NET_HEADER_SIZE,
  NetConfigOffset,
  NetFeature,
  NetLinkStatus,
  NetQueue,
  NetworkSwitch,
  VirtioFeature,
  VirtioNet,
  type EthernetFrame,
  type NetBackend,
} from '@typevisor/devices';
import { rig } from './harness.js';

class RecordingNetBackend implements NetBackend {
  readonly sent: EthernetFrame[] = [];
  receiver: ((frame: EthernetFrame) => void) | null = null;
  send(frame: EthernetFrame): void {
    this.sent.push(frame);
  }
  setReceiver(receiver: ((frame: EthernetFrame) => void) | null): void {
    this.receiver = receiver;
  }
  inject(frame: EthernetFrame): void {
    this.receiver?.(frame);
  }
}

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];
const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function frame(dst: readonly number[], src: readonly number[], payloadLength: number, fill = 0x42): Uint8Array {
  const out = new Uint8Array(14 + payloadLength).fill(fill);
  out.set(dst, 0);
  out.set(src, 6);
  out[12] = 0x08;
  out[13] = 0x00;
  return out;
}

function withHeader(f: Uint8Array): Uint8Array {
  const out = new Uint8Array(NET_HEADER_SIZE + f.length);
  out.set(f, NET_HEADER_SIZE);
  return out;
}

function numBuffers(bytes: Uint8Array | undefined): number {
  return bytes === undefined ? -1 : bytes[10]! | (bytes[11]! << 8);
}

function netRig(options: { mrg?: boolean; backend?: NetBackend; mac?: number[]; backlog?: number } = {}) {
  const backend = options.backend ?? new RecordingNetBackend();
  const device = new VirtioNet({ backend, mac: options.mac ?? MAC_A, ...(options.backlog === undefined ? {} : { rxBacklogFrames: options.backlog }) });
  const r = rig(device);
  const mrg = options.mrg ?? true;
  r.driver.init({ features: (offered) => { const f = offered.clone(); if (!mrg) f.remove(NetFeature.MRG_RXBUF); return f; } });
  return { ...r, backend };
}

describe('virtio-net', () => {
  it('exposes the MAC and link status in config space and offers MAC/STATUS/MRG_RXBUF', () => {
    const { driver } = netRig();
    const mac = [0, 1, 2, 3, 4, 5].map((i) => driver.readConfig(NetConfigOffset.MAC + i, 1));
    expect(mac).toEqual(MAC_A);
    expect(driver.readConfig(NetConfigOffset.STATUS, 2)).toBe(NetLinkStatus.LINK_UP);
    const offered = driver.deviceFeatures();
    expect(offered.has(NetFeature.MAC)).toBe(true);
    expect(offered.has(NetFeature.STATUS)).toBe(true);
    expect(offered.has(NetFeature.MRG_RXBUF)).toBe(true);
    expect(offered.has(NetFeature.CSUM)).toBe(false);
  });

  it('transmits the frame after the 12-byte header to the backend', () => {
    const { driver, backend, device } = netRig();
    const f = frame(MAC_B, MAC_A, 100);
    driver.submit(NetQueue.TX, [{ readable: withHeader(f).subarray(0, NET_HEADER_SIZE) }, { readable: f }]);
    driver.kick(NetQueue.TX);
    const [used] = driver.takeUsed(NetQueue.TX);
    expect(used?.length).toBe(0);
    expect((backend as RecordingNetBackend).sent).toEqual([f]);
    expect(device.stats.txFrames).toBe(1);
    expect(device.stats.txBytes).toBe(f.length);
  });

  it('receives into a single buffer with num_buffers = 1 when MRG_RXBUF is not negotiated', () => {
    const { driver, backend, device } = netRig({ mrg: false });
    driver.submit(NetQueue.RX, [{ writable: 1526 }]);
    driver.kick(NetQueue.RX);
    const f = frame(MAC_A, MAC_B, 60);
    (backend as RecordingNetBackend).inject(f);
    const [used] = driver.takeUsed(NetQueue.RX);
    expect(used?.length).toBe(NET_HEADER_SIZE + f.length);
    expect(numBuffers(used?.written)).toBe(1);
    expect(used?.written.subarray(NET_HEADER_SIZE)).toEqual(f);
    expect(device.stats.rxFrames).toBe(1);
    expect(driver.readRegister(MmioRegister.INTERRUPT_STATUS) & InterruptBit.USED_BUFFER).toBe(InterruptBit.USED_BUFFER);
  });

  it('merges receive buffers and reports num_buffers with MRG_RXBUF', () => {
    const { driver, backend } = netRig();
    for (let i = 0; i < 4; i++) driver.submit(NetQueue.RX, [{ writable: 64 }]);
    driver.kick(NetQueue.RX);
    const f = frame(MAC_A, MAC_B, 136); // 150-byte frame + 12-byte header = 162 = 64 + 64 + 34
    (backend as RecordingNetBackend).inject(f);
    const used = driver.takeUsed(NetQueue.RX);
    expect(used.map((u) => u.length)).toEqual([64, 64, 34]);
    expect(numBuffers(used[0]?.written)).toBe(3);
    const joined = new Uint8Array(162);
    let offset = 0;
    for (const u of used) {
      joined.set(u.written, offset);
      offset += u.length;
    }
    expect(joined.subarray(NET_HEADER_SIZE)).toEqual(f);
  });

  it('drops (and counts) a frame too big for the single buffer without MRG_RXBUF, keeping the buffer', () => {
    const { driver, backend, device } = netRig({ mrg: false });
    driver.submit(NetQueue.RX, [{ writable: 100 }]);
    driver.kick(NetQueue.RX);
    (backend as RecordingNetBackend).inject(frame(MAC_A, MAC_B, 500));
    expect(device.stats.rxDropped).toBe(1);
    expect(driver.takeUsed(NetQueue.RX)).toEqual([]);
    (backend as RecordingNetBackend).inject(frame(MAC_A, MAC_B, 20));
    expect(driver.takeUsed(NetQueue.RX).map((u) => u.length)).toEqual([NET_HEADER_SIZE + 34]);
  });

  it('holds frames in a bounded backlog until the guest posts buffers, dropping the excess', () => {
    const { driver, backend, device } = netRig({ backlog: 2 });
    const net = backend as RecordingNetBackend;
    net.inject(frame(MAC_A, MAC_B, 10, 1));
    net.inject(frame(MAC_A, MAC_B, 10, 2));
    net.inject(frame(MAC_A, MAC_B, 10, 3));
    expect(device.rxBacklog).toBe(2);
    expect(device.stats.rxDropped).toBe(1);
    driver.submit(NetQueue.RX, [{ writable: 2048 }]);
    driver.submit(NetQueue.RX, [{ writable: 2048 }]);
    driver.kick(NetQueue.RX);
    const used = driver.takeUsed(NetQueue.RX);
    expect(used.map((u) => u.written[NET_HEADER_SIZE + 14])).toEqual([1, 2]);
    expect(device.rxBacklog).toBe(0);
  });

  it('waits for more merged buffers instead of publishing a partial frame', () => {
    const { driver, backend, device } = netRig();
    driver.submit(NetQueue.RX, [{ writable: 64 }]);
    driver.kick(NetQueue.RX);
    (backend as RecordingNetBackend).inject(frame(MAC_A, MAC_B, 200));
    expect(driver.takeUsed(NetQueue.RX)).toEqual([]);
    expect(device.rxBacklog).toBe(1);
    for (let i = 0; i < 4; i++) driver.submit(NetQueue.RX, [{ writable: 64 }]);
    driver.kick(NetQueue.RX);
    const used = driver.takeUsed(NetQueue.RX);
    expect(used.length).toBe(4);
    expect(numBuffers(used[0]?.written)).toBe(4);
  });

  it('reports link down/up through config status with a config-change interrupt, dropping traffic while down', () => {
    const { driver, backend, device, transport } = netRig();
    const generation = driver.readRegister(MmioRegister.CONFIG_GENERATION);
    device.setLinkUp(false);
    expect(driver.readConfig(NetConfigOffset.STATUS, 2) & NetLinkStatus.LINK_UP).toBe(0);
    expect(driver.readRegister(MmioRegister.CONFIG_GENERATION)).toBe(generation + 1);
    expect(driver.acknowledgeInterrupts()).toBe(InterruptBit.CONFIG_CHANGE);
    const f = frame(MAC_B, MAC_A, 50);
    driver.submit(NetQueue.TX, [{ readable: withHeader(f) }]);
    driver.kick(NetQueue.TX);
    expect((backend as RecordingNetBackend).sent.length).toBe(0);
    expect(device.stats.txDropped).toBe(1);
    expect(driver.takeUsed(NetQueue.TX).length).toBe(1);
    device.setLinkUp(true);
    expect(driver.readConfig(NetConfigOffset.STATUS, 2)).toBe(NetLinkStatus.LINK_UP);
    expect(transport.stats.configInterrupts).toBe(2);
  });

  it('loops frames back with LoopbackNetBackend', () => {
    const { driver } = netRig({ backend: new LoopbackNetBackend() });
    driver.submit(NetQueue.RX, [{ writable: 2048 }]);
    driver.kick(NetQueue.RX);
    const f = frame(MAC_A, MAC_A, 40, 9);
    driver.submit(NetQueue.TX, [{ readable: withHeader(f) }]);
    driver.kick(NetQueue.TX);
    const [rx] = driver.takeUsed(NetQueue.RX);
    expect(rx?.written.subarray(NET_HEADER_SIZE)).toEqual(f);
  });

  it('connects two devices through a learning NetworkSwitch', () => {
    const lan = new NetworkSwitch();
    const a = netRig({ backend: lan.connect('a'), mac: MAC_A });
    const b = netRig({ backend: lan.connect('b'), mac: MAC_B });
    const c = netRig({ backend: lan.connect('c'), mac: [0x02, 0, 0, 0, 0, 0x0c] });
    for (const r of [a, b, c]) {
      r.driver.submit(NetQueue.RX, [{ writable: 2048 }]);
      r.driver.submit(NetQueue.RX, [{ writable: 2048 }]);
      r.driver.kick(NetQueue.RX);
    }
    // A broadcasts (e.g. ARP): B and C both get it, and the switch learns A.
    const arp = frame(BROADCAST, MAC_A, 28);
    a.driver.submit(NetQueue.TX, [{ readable: withHeader(arp) }]);
    a.driver.kick(NetQueue.TX);
    expect(b.driver.takeUsed(NetQueue.RX).length).toBe(1);
    expect(c.driver.takeUsed(NetQueue.RX).length).toBe(1);
    expect(a.driver.takeUsed(NetQueue.RX).length).toBe(0);
    // B answers A by unicast: only A gets it.
    const reply = frame(MAC_A, MAC_B, 28, 7);
    b.driver.submit(NetQueue.TX, [{ readable: withHeader(reply) }]);
    b.driver.kick(NetQueue.TX);
    const [atA] = a.driver.takeUsed(NetQueue.RX);
    expect(atA?.written.subarray(NET_HEADER_SIZE)).toEqual(reply);
    expect(c.driver.takeUsed(NetQueue.RX).length).toBe(0);
    expect(lan.stats).toEqual({ unicast: 1, flooded: 1, dropped: 0 });
    expect(lan.learnedAddresses).toBe(2);
  });

  it('bounds the switch MAC table and forgets a disconnected port', () => {
    const lan = new NetworkSwitch({ macTableSize: 4 });
    const port = lan.connect();
    const other = lan.connect();
    const received: number[] = [];
    other.setReceiver((f) => received.push(f.length));
    for (let i = 0; i < 20; i++) port.send(frame(BROADCAST, [0x02, 0, 0, 0, 1, i], 10));
    expect(lan.learnedAddresses).toBe(4);
    expect(received.length).toBe(20);
    port.disconnect();
    expect(lan.learnedAddresses).toBe(0);
    expect(lan.portCount).toBe(1);
    port.send(frame(BROADCAST, MAC_A, 10));
    expect(lan.stats.dropped).toBe(1);
  });

  it('negotiates without optional features', () => {
    const r = rig(new VirtioNet({ backend: new RecordingNetBackend() }));
    expect(r.driver.negotiate(FeatureSet.of(VirtioFeature.VERSION_1))).toBe(true);
  });
});

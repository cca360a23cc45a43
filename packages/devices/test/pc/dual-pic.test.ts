import { describe, expect, it } from 'vitest';
import { DualPic } from '../../src/index.js';
import { RecordingIrqLine } from './fakes.js';

function setup() {
  const intr = new RecordingIrqLine();
  const pic = new DualPic({ intr });
  const out = (port: number, value: number) => {
    if (port === 0x20 || port === 0x21) pic.master.write(port - 0x20, 1, value);
    else if (port === 0xa0 || port === 0xa1) pic.slave.write(port - 0xa0, 1, value);
    else pic.elcr.write(port - 0x4d0, 1, value);
  };
  const inb = (port: number) => {
    if (port === 0x20 || port === 0x21) return pic.master.read(port - 0x20, 1);
    if (port === 0xa0 || port === 0xa1) return pic.slave.read(port - 0xa0, 1);
    return pic.elcr.read(port - 0x4d0, 1);
  };
  return { intr, pic, out, inb };
}

/** Linux's init_8259A(): ICW1-ICW4 to both chips, vectors 0x30 and 0x38, then masks restored. */
function linuxInit(out: (port: number, value: number) => void, autoEoi = false) {
  out(0x21, 0xff);
  out(0xa1, 0xff);
  out(0x20, 0x11); // ICW1: edge, cascade, ICW4 needed
  out(0x21, 0x30); // ICW2: IRQ0 -> vector 0x30
  out(0x21, 1 << 2); // ICW3: slave on IR2
  out(0x21, autoEoi ? 0x03 : 0x01); // ICW4: 8086 mode
  out(0xa0, 0x11);
  out(0xa1, 0x38);
  out(0xa1, 0x02); // ICW3: slave identity 2
  out(0xa1, 0x01);
  out(0x21, 0x00);
  out(0xa1, 0x00);
}

describe('8259A dual PIC', () => {
  it('runs Linux init_8259A and delivers IRQ0 with the programmed vector', () => {
    const { intr, pic, out, inb } = setup();
    linuxInit(out);
    expect(inb(0x21)).toBe(0);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(intr.level).toBe(true);
    expect(pic.acknowledge()).toBe(0x30);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x20, 0x0b); // OCW3: read ISR
    expect(inb(0x20)).toBe(0x01);
    out(0x20, 0x20); // non-specific EOI
    expect(inb(0x20)).toBe(0x00);
  });

  it('cascades slave IRQs through master IRQ2 and needs EOIs on both', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    pic.irqLine(12).setLevel(true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x38 + 4);
    out(0x20, 0x0b);
    out(0xa0, 0x0b);
    expect(inb(0x20)).toBe(0x04);
    expect(inb(0xa0)).toBe(0x10);
    out(0xa0, 0x60 | 4); // specific EOI slave IR4
    out(0x20, 0x60 | 2); // specific EOI master IR2
    expect(inb(0x20)).toBe(0);
    expect(inb(0xa0)).toBe(0);
  });

  it('resolves priority: IRQ0 first, lower priorities wait for EOI; a higher one nests', () => {
    const { pic, out } = setup();
    linuxInit(out);
    pic.setIrq(3, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    expect(pic.hasInterrupt()).toBe(false); // IRQ3 is lower than IRQ1 in service
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x30); // nested
    out(0x20, 0x20);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x33);
  });

  it('OCW1 masks; reading IRR shows masked requests', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    out(0x21, 0x02);
    pic.setIrq(1, true);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x20, 0x0a); // read IRR
    expect(inb(0x20)).toBe(0x02);
    out(0x21, 0x00);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('edge mode: a request that goes away before INTA gives spurious IRQ7 without ISR', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    pic.setIrq(4, true);
    pic.setIrq(4, false);
    expect(pic.acknowledge()).toBe(0x37);
    out(0x20, 0x0b);
    expect(inb(0x20)).toBe(0); // no ISR bit for a spurious IRQ7
    // An edge needs a new rising edge after being serviced.
    pic.setIrq(5, true);
    expect(pic.acknowledge()).toBe(0x35);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('a slave request withdrawn before INTA drops the cascade input: the master answers IRQ7', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    pic.setIrq(9, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(9, false);
    expect(pic.hasInterrupt()).toBe(false);
    expect(pic.acknowledge()).toBe(0x37);
    out(0x20, 0x0b);
    out(0xa0, 0x0b);
    expect(inb(0x20)).toBe(0);
    expect(inb(0xa0)).toBe(0);
  });

  it('level-triggered inputs through the ELCR re-request until the line drops', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    out(0x4d1, 0xff);
    expect(inb(0x4d1)).toBe(0xde); // IRQ8 and IRQ13 cannot be level
    out(0x4d0, 0xff);
    expect(inb(0x4d0)).toBe(0xf8);
    pic.setIrq(10, true);
    expect(pic.acknowledge()).toBe(0x3a);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(true); // still asserted
    expect(pic.acknowledge()).toBe(0x3a);
    pic.setIrq(10, false);
    out(0xa0, 0x20);
    out(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('ICW1 LTIM makes every input level-triggered', () => {
    const { pic, out } = setup();
    out(0x20, 0x19); // LTIM
    out(0x21, 0x08);
    out(0x21, 0x04);
    out(0x21, 0x01);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x09);
    out(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x09);
  });

  it('auto-EOI leaves nothing in service; rotate-in-AEOI rotates priorities', () => {
    const { pic, out, inb } = setup();
    linuxInit(out, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    out(0x20, 0x0b);
    expect(inb(0x20)).toBe(0);
    out(0x20, 0x80); // rotate in AEOI mode
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x30); // IRQ0 now lowest
    pic.setIrq(7, true);
    pic.setIrq(1, false);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31); // after IR0 became lowest, IR1 is highest
    expect(pic.acknowledge()).toBe(0x37);
  });

  it('OCW2 rotate on non-specific EOI and set priority', () => {
    const { pic, out } = setup();
    linuxInit(out);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x33);
    out(0x20, 0xa0); // rotate on non-specific EOI: IR3 becomes lowest
    pic.setIrq(1, true);
    pic.setIrq(4, true);
    expect(pic.acknowledge()).toBe(0x34); // IR4 is now highest
    out(0x20, 0xc0 | 5); // set priority: IR5 lowest, IR6 highest
    out(0x20, 0x60 | 4);
    pic.setIrq(6, true);
    expect(pic.acknowledge()).toBe(0x36);
    out(0x20, 0xe0 | 6); // rotate on specific EOI: IR6 lowest, IR7 highest
    expect(pic.acknowledge()).toBe(0x31);
  });

  it('poll mode returns the highest request and acknowledges it', () => {
    const { pic, out, inb } = setup();
    linuxInit(out);
    out(0x20, 0x0c); // OCW3 poll
    expect(inb(0x20)).toBe(0x00);
    pic.setIrq(6, true);
    out(0x20, 0x0c);
    expect(inb(0x20)).toBe(0x86);
    out(0x20, 0x0b);
    expect(inb(0x20)).toBe(0x40);
  });

  it('special mask mode lets lower priorities in while a masked level is in service', () => {
    const { pic, out } = setup();
    linuxInit(out);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x31);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(false);
    out(0x21, 0x02); // mask IR1
    out(0x20, 0x68); // OCW3: set special mask mode
    expect(pic.acknowledge()).toBe(0x35);
    out(0x20, 0x48); // reset special mask mode
  });

  it('special fully nested mode lets a higher slave IRQ through while IRQ2 is in service', () => {
    const { pic, out } = setup();
    out(0x20, 0x11);
    out(0x21, 0x30);
    out(0x21, 0x04);
    out(0x21, 0x11); // SFNM
    out(0xa0, 0x11);
    out(0xa1, 0x38);
    out(0xa1, 0x02);
    out(0xa1, 0x01);
    pic.setIrq(12, true);
    expect(pic.acknowledge()).toBe(0x3c);
    pic.setIrq(9, true);
    expect(pic.acknowledge()).toBe(0x39);
  });

  it('IRQ lines are range checked; IRQ2 is the cascade', () => {
    const { pic } = setup();
    expect(() => pic.irqLine(16)).toThrow(RangeError);
    pic.setIrq(2, true);
    pic.setIrq(99, true);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('snapshot round trip', () => {
    const { pic, out } = setup();
    linuxInit(out);
    pic.setIrq(3, true);
    pic.setIrq(11, true);
    const state = JSON.parse(JSON.stringify(pic.saveState()));
    const intr = new RecordingIrqLine();
    const copy = new DualPic({ intr });
    copy.restoreState(state);
    expect(intr.level).toBe(true);
    expect(copy.acknowledge()).toBe(0x3b);
    copy.slave.write(0, 1, 0x20);
    copy.master.write(0, 1, 0x20);
    expect(copy.acknowledge()).toBe(0x33);
    expect(() => copy.restoreState({ kind: 'dual-pic-8259', version: 2, data: {} })).toThrow(/version/);
  });
});

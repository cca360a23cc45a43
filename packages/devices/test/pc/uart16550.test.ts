import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../src/index.js';
import { LoopbackCharBackend, ManualClock, RecordingIrqLine } from './fakes.js';

const RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

function setup() {
  const clock = new ManualClock();
  const irq = new RecordingIrqLine();
  const backend = new LoopbackCharBackend();
  const uart = new Uart16550({ irq, clock, backend });
  const out = (reg: number, value: number) => uart.write(reg, 1, value);
  const inb = (reg: number) => uart.read(reg, 1);
  return { clock, irq, backend, uart, out, inb };
}

/** One 8N1 character at 115200 baud, in ns. */
const CHAR_115200 = (10 * 16 * 1 * 1e9) / 1_843_200;

describe('16550A UART', () => {
  it('has the datasheet reset values', () => {
    const { inb } = setup();
    expect(inb(IER)).toBe(0);
    expect(inb(IIR)).toBe(0x01);
    expect(inb(LCR)).toBe(0);
    expect(inb(MCR)).toBe(0);
    expect(inb(LSR)).toBe(0x60);
    expect(inb(MSR) & 0xf0).toBe(0xb0); // a connected terminal: CTS, DSR, DCD
  });

  it("passes Linux 8250 autoconfig: scratch test, loopback test, 16550A FIFO detection", () => {
    const { out, inb } = setup();
    // Scratch test through IER: only the low four bits exist.
    out(IER, 0);
    expect(inb(IER) & 0x0f).toBe(0);
    out(IER, 0xff);
    expect(inb(IER)).toBe(0x0f);
    out(IER, 0);
    // Loopback test: RTS|OUT2 looped to CTS|DCD.
    out(MCR, 0x10 | 0x0a);
    expect(inb(MSR) & 0xf0).toBe(0x90);
    out(MCR, 0);
    // EFR probes read IIR (not 0) on a 16550A.
    out(LCR, 0x80);
    expect(inb(2)).not.toBe(0);
    out(LCR, 0xbf);
    expect(inb(2)).not.toBe(0);
    out(2, 0); // "EFR" write lands in FCR
    out(LCR, 0);
    out(FCR, 0x01);
    expect(inb(IIR) >> 6).toBe(3);
    // Not a 16750: FCR bit 5 does not show in IIR bit 5.
    out(LCR, 0x80);
    out(FCR, 0x21);
    out(LCR, 0);
    expect((inb(IIR) >> 5) & 1).toBe(0);
    // Scratch register.
    out(SCR, 0xa5);
    expect(inb(SCR)).toBe(0xa5);
    // The LSR is not 0xff (the "no UART" check) and THRE/TEMT are set.
    expect(inb(LSR)).toBe(0x60);
  });

  it('divisor latch is reached with DLAB', () => {
    const { out, inb } = setup();
    out(LCR, 0x83);
    out(DLL, 0x0c);
    out(DLM, 0x00);
    expect(inb(DLL)).toBe(0x0c);
    expect(inb(DLM)).toBe(0);
    out(LCR, 0x03);
    expect(inb(IER)).toBe(0);
    expect(inb(LCR)).toBe(0x03);
  });

  it('transmits THR writes to the backend and raises THRE through OUT2', () => {
    const { backend, irq, out, inb } = setup();
    out(THR, 0x41);
    out(THR, 0x42);
    expect(backend.outputText).toBe('AB');
    out(IER, 0x02);
    expect(irq.level).toBe(false); // OUT2 gates the PC IRQ line
    out(MCR, 0x08);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(0x02);
    // Reading IIR cleared the THRE source.
    expect(irq.level).toBe(false);
    expect(inb(IIR)).toBe(0x01);
    out(THR, 0x43);
    expect(irq.level).toBe(true);
  });

  it('passes Linux THRE/TXEN bug tests (THRE interrupt appears when ETBEI is enabled)', () => {
    const { out, inb } = setup();
    out(IER, 0x02);
    const iir1 = inb(IIR);
    out(IER, 0);
    out(IER, 0x02);
    const iir2 = inb(IIR);
    out(IER, 0);
    expect(iir1 & 1).toBe(0);
    expect(iir2 & 1).toBe(0);
  });

  it('receives paced host input into the FIFO with the trigger level and character timeout', () => {
    const { clock, backend, irq, out, inb } = setup();
    out(LCR, 0x03);
    out(FCR, 0x81 | 0x06); // FIFO, clear both, trigger 8
    out(IER, 0x01);
    out(MCR, 0x0b);
    backend.type('hello');
    expect(inb(LSR) & 1).toBe(0); // nothing has arrived yet
    clock.advance(CHAR_115200 * 5 + 1);
    expect(inb(LSR) & 1).toBe(1);
    expect(irq.level).toBe(false); // 5 < trigger level 8
    clock.advance(CHAR_115200 * 4);
    expect(irq.level).toBe(true);
    expect(inb(IIR)).toBe(0xcc); // character timeout, FIFOs enabled
    let text = '';
    while (inb(LSR) & 1) text += String.fromCharCode(inb(RBR));
    expect(text).toBe('hello');
    expect(irq.level).toBe(false);
    backend.type('0123456789');
    clock.advance(CHAR_115200 * 8 + 1);
    expect(inb(IIR)).toBe(0xc4); // received data available at 8 bytes
  });

  it('trigger levels 1, 4, 8, 14', () => {
    for (const [bits, level] of [[0x00, 1], [0x40, 4], [0x80, 8], [0xc0, 14]] as const) {
      const { clock, backend, out, inb } = setup();
      out(LCR, 0x03); // 8N1: ten bits per character
      out(FCR, bits | 0x07);
      out(IER, 0x01);
      backend.type(Array(16).fill(0x55));
      clock.advance(CHAR_115200 * (level - 1) + 1);
      expect(inb(IIR) & 0x0f, `trigger ${level}`).toBe(0x01);
      clock.advance(CHAR_115200);
      expect(inb(IIR) & 0x0f).toBe(0x04);
    }
  });

  it('overruns when a 17th byte meets a full FIFO (loopback); the line status interrupt has top priority', () => {
    const { out, inb } = setup();
    out(LCR, 0x03);
    out(FCR, 0xc7);
    out(IER, 0x05);
    out(MCR, 0x10); // loopback: the transmitter feeds the receiver, as a wire with no flow control
    for (let i = 0; i < 17; i++) out(THR, 0x30 + i);
    expect(inb(IIR)).toBe(0xc6);
    expect(inb(LSR) & 0x03).toBe(0x03);
    expect(inb(LSR) & 0x02).toBe(0); // cleared by the read
    const got: number[] = [];
    while (inb(LSR) & 1) got.push(inb(RBR));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 0x30 + i));
  });

  it('non-FIFO mode holds one byte and overwrites it on overrun (loopback)', () => {
    const { out, inb } = setup();
    out(MCR, 0x10);
    out(THR, 0x78);
    out(THR, 0x79);
    expect(inb(LSR) & 0x03).toBe(0x03);
    expect(inb(RBR)).toBe(0x79);
  });

  it('holds host input back while the receiver is full instead of overrunning it', () => {
    const { clock, backend, out, inb } = setup();
    out(LCR, 0x03);
    out(FCR, 0xc7);
    const sent = Array.from({ length: 40 }, (_, i) => 0x40 + i);
    backend.type(sent);
    clock.advance(CHAR_115200 * 40 + 1);
    expect(inb(LSR) & 0x02).toBe(0); // no overrun although 40 bytes were due
    const got: number[] = [];
    for (let round = 0; round < 10 && got.length < sent.length; round++) {
      while (inb(LSR) & 1) got.push(inb(RBR));
      clock.advance(CHAR_115200 * 16 + 1);
    }
    expect(got).toEqual(sent);
    expect(inb(LSR) & 0x02).toBe(0);
  });

  it('non-FIFO mode: host input waits for each byte to be read', () => {
    const { clock, backend, inb } = setup();
    backend.type('xy');
    clock.advance(CHAR_115200 * 2 + 1);
    expect(inb(LSR) & 0x03).toBe(0x01);
    expect(inb(RBR)).toBe(0x78);
    clock.advance(CHAR_115200 + 1);
    expect(inb(RBR)).toBe(0x79);
  });

  it('FCR clears the receive FIFO; toggling FIFO enable clears it too', () => {
    const { clock, backend, out, inb } = setup();
    out(FCR, 0x01);
    backend.type('abc');
    clock.advance(CHAR_115200 * 3 + 1);
    out(FCR, 0x03);
    expect(inb(LSR) & 1).toBe(0);
    backend.type('d');
    clock.advance(CHAR_115200 + 1);
    out(FCR, 0x00);
    expect(inb(LSR) & 1).toBe(0);
    expect(inb(IIR) & 0xc0).toBe(0);
  });

  it('loops transmitted bytes back and reflects MCR in MSR with delta bits and the modem interrupt', () => {
    const { backend, out, inb } = setup();
    out(MCR, 0x10);
    expect(inb(MSR)).toBe(0x0b); // CTS, DSR, DCD dropped: delta bits
    expect(inb(MSR)).toBe(0x00);
    out(THR, 0x5a);
    expect(backend.output).toEqual([]);
    expect(inb(LSR) & 1).toBe(1);
    expect(inb(RBR)).toBe(0x5a);
    out(IER, 0x08);
    out(MCR, 0x10 | 0x04); // OUT1 -> RI; a rising RI is not a delta
    expect(inb(IIR)).toBe(0x01);
    expect(inb(MSR)).toBe(0x40);
    out(MCR, 0x10 | 0x02); // RTS -> CTS, RI falls
    expect(inb(IIR)).toBe(0x00);
    expect(inb(MSR)).toBe(0x10 | 0x04 | 0x01); // CTS, trailing edge of RI, delta CTS
    expect(inb(IIR)).toBe(0x01);
  });

  it('a break arrives as a zero byte with BI', () => {
    const { uart, out, inb } = setup();
    out(IER, 0x04);
    uart.injectBreak();
    expect(inb(IIR)).toBe(0x06);
    expect(inb(LSR) & 0x19).toBe(0x19);
    expect(inb(RBR)).toBe(0);
  });

  it('snapshot round trip keeps FIFO, registers and pending input', () => {
    const { clock, backend, uart, out, inb } = setup();
    out(LCR, 0x03);
    out(FCR, 0x81);
    out(SCR, 0x77);
    backend.type('abcdef');
    clock.advance(CHAR_115200 * 3 + 1);
    const state = JSON.parse(JSON.stringify(uart.saveState()));
    const irq2 = new RecordingIrqLine();
    const copy = new Uart16550({ irq: irq2, clock });
    copy.restoreState(state);
    expect(copy.read(SCR, 1)).toBe(0x77);
    clock.advance(CHAR_115200 * 3 + 1);
    let text = '';
    while (copy.read(LSR, 1) & 1) text += String.fromCharCode(copy.read(RBR, 1));
    expect(text).toBe('abcdef');
    expect(inb(SCR)).toBe(0x77);
    expect(() => copy.restoreState({ kind: 'uart16550', version: 1, data: { ...state.data, rx: Array(40).fill(0) } })).toThrow();
  });
});

import { describe, expect, it } from 'vitest';
import { runFlat } from './support/harness.js';

const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ARITH = CF | PF | AF | ZF | SF | OF;

/** [name, code, expected eax, expected arithmetic flags] — values worked out by hand from the SDM. */
const cases: Array<[string, string, number, number]> = [
  ['add signed overflow', 'mov eax,0x7fffffff\nadd eax,1', 0x80000000, OF | SF | AF | PF],
  ['add carry to zero', 'mov eax,0xffffffff\nadd eax,1', 0, CF | ZF | AF | PF],
  ['sub byte borrow', 'mov eax,0\nsub al,1', 0xff, CF | SF | AF | PF],
  ['sub byte overflow', 'mov eax,0x80\nsub al,1', 0x7f, OF | AF],
  ['adc with carry in', 'stc\nmov eax,1\nadc eax,0xffffffff', 1, CF | AF],
  ['sbb with borrow in', 'stc\nmov eax,0\nsbb eax,0', 0xffffffff, CF | SF | AF | PF],
  ['inc keeps CF', 'stc\nmov eax,-1\ninc eax', 0, CF | ZF | AF | PF],
  ['dec keeps CF clear', 'clc\nmov eax,0x80000000\ndec eax', 0x7fffffff, OF | AF | PF],
  ['neg nonzero', 'mov eax,5\nneg eax', 0xfffffffb, CF | SF | AF],
  ['neg zero', 'mov eax,0\nneg eax', 0, ZF | PF],
  ['and clears CF OF', 'stc\nmov eax,0xf0\nand eax,0x3c', 0x30, PF],
  ['xor to zero', 'mov eax,0x1234\nxor eax,eax', 0, ZF | PF],
  ['shl 1 byte', 'mov eax,0x81\nshl al,1', 0x02, CF | OF],
  ['shl count 0 keeps flags', 'stc\nmov eax,1\nmov cl,0\nshl eax,cl', 1, CF],
  ['shl count 32 masks to 0', 'stc\nmov eax,1\nmov cl,32\nshl eax,cl', 1, CF],
  ['sar 1', 'mov eax,0x80000001\nsar eax,1', 0xc0000000, CF | SF | PF],
  ['shr 4', 'mov eax,0x1f\nshr eax,4', 1, CF],
  ['rol byte', 'mov eax,0x81\nrol al,1', 0x03, CF | OF],
  ['rcr with carry', 'stc\nmov eax,1\nrcr al,1', 0x80, CF | OF],
  ['rcl 9 is identity for bytes', 'clc\nmov eax,0x55\nmov cl,9\nrcl al,cl', 0x55, 0],
  ['mul overflow', 'mov eax,0x80000000\nmov ecx,2\nmul ecx\nmov eax,edx', 1, CF | OF],
  ['imul 3-operand overflow', 'mov ecx,0x40000000\nimul eax,ecx,4', 0, CF | OF | ZF | PF],
  ['cmp equal', 'mov eax,7\ncmp eax,7', 7, ZF | PF],
  ['daa', 'mov eax,0x79\nadd al,0x35\ndaa', 0x14, CF | AF | PF],
  ['das', 'mov eax,0x35\nsub al,0x47\ndas', 0x88, CF | AF | SF | PF],
  ['aaa', 'mov eax,0x0009\nadd al,8\naaa', 0x0107, CF | AF],
  ['bsf', 'mov ecx,0xf0\nbsf eax,ecx', 4, 0],
  ['bsf zero sets ZF and keeps dest', 'mov eax,77\nxor ecx,ecx\nbsf eax,ecx', 77, ZF | PF],
  ['bsr', 'mov ecx,0x00f0\nbsr eax,ecx', 7, 0],
  ['bt register', 'mov eax,0\nmov ecx,0x10\nbt ecx,36', 0, CF],
  // Instructions that set some flags leave the others as the last arithmetic instruction left them
  // (setArith replaces only its flags and keeps the rest lazy).
  ['cmc keeps the zero of the add before it', 'mov eax,0xffffffff\nadd eax,1\ncmc', 0, ZF | AF | PF],
  ['stc keeps the overflow of the sub before it', 'mov eax,0x80\nsub al,1\nstc', 0x7f, OF | AF | CF],
  ['sahf keeps the overflow of the add before it', 'mov eax,0x7fffffff\nadd eax,1\nmov ah,0\nsahf', 0x80000000, OF],
];

describe('ALU results and lazily computed flags', () => {
  for (const [name, code, eax, flags] of cases) {
    it(name, () => {
      const r = runFlat(`${code}\nhlt`);
      expect(r.stop).toBe('halt');
      expect(r.eax >>> 0).toBe(eax >>> 0);
      // Flags the SDM leaves undefined are masked out per case below.
      let mask = ARITH;
      if (name.startsWith('mul') || name.startsWith('imul')) mask = CF | OF;
      if (name.startsWith('bs')) mask = ZF;
      if (name === 'bt register') mask = CF;
      if (name.startsWith('shl count') || name.startsWith('rcl') || name.startsWith('rol') || name.startsWith('rcr')) mask = CF | OF;
      if (name.startsWith('and') || name.startsWith('xor') || name.startsWith('sar') || name.startsWith('shr')) mask &= ~AF;
      if (name === 'shr 4') mask &= ~OF;
      if (name === 'aaa') mask = CF | AF;
      if (name === 'das' || name === 'daa') mask &= ~OF;
      expect((r.eflags & mask).toString(16)).toBe((flags & mask).toString(16));
    });
  }
});

describe('multiply and divide', () => {
  it('signed multiply into EDX:EAX', () => {
    const r = runFlat('mov eax,-2\nmov ecx,3\nimul ecx\nhlt');
    expect(r.eax).toBe(0xfffffffa);
    expect(r.edx).toBe(0xffffffff);
    expect(r.eflags & (CF | OF)).toBe(0);
  });
  it('unsigned divide of a 64-bit dividend', () => {
    const r = runFlat('mov edx,0x12345678\nmov eax,0x9abcdef0\nmov ecx,0x87654321\ndiv ecx\nhlt');
    expect(r.eax).toBe(0x226b9022);
    expect(r.edx).toBe(0x38bc648e);
  });
  it('signed divide of a dividend past 2^52, both signs of divisor (exact, and the remainder takes the dividend\'s sign)', () => {
    // -0x0123456789abcdef = 0xfedcba98:76543211.
    const negativeByPositive = runFlat('mov edx,0xfedcba98\nmov eax,0x76543211\nmov ecx,0x12345678\nidiv ecx\nhlt');
    expect(negativeByPositive.eax | 0).toBe(-268435456);
    expect(negativeByPositive.edx | 0).toBe(-162254319);
    const negativeByNegative = runFlat('mov edx,0xfedcba98\nmov eax,0x76543211\nmov ecx,-0x12345678\nidiv ecx\nhlt');
    expect(negativeByNegative.eax | 0).toBe(268435456);
    expect(negativeByNegative.edx | 0).toBe(-162254319);
    // A quotient of 2^32 or more in magnitude: #DE.
    const overflow = runFlat('mov edx,0xfedcba98\nmov eax,0x76543211\nmov ecx,0x1234\nidiv ecx\nhlt');
    expect(overflow.stop).toBe('exception');
  });
  it('signed divide truncates toward zero', () => {
    const r = runFlat('mov eax,-7\ncdq\nmov ecx,2\nidiv ecx\nhlt');
    expect(r.eax | 0).toBe(-3);
    expect(r.edx | 0).toBe(-1);
  });
  it('16-bit divide', () => {
    const r = runFlat('mov edx,0\nmov eax,0\nmov dx,1\nmov ax,0\nmov cx,2\ndiv cx\nhlt');
    expect(r.eax & 0xffff).toBe(0x8000);
    expect(r.edx & 0xffff).toBe(0);
  });
  for (const [name, code] of [
    ['divide by zero', 'xor ecx,ecx\ndiv ecx'],
    ['quotient overflow', 'mov edx,2\nxor eax,eax\nmov ecx,2\ndiv ecx'],
    ['idiv most negative by -1', 'mov eax,0x80000000\ncdq\nmov ecx,-1\nidiv ecx'],
    ['byte quotient overflow', 'mov eax,0x1000\nmov cl,2\ndiv cl'],
    ['aam 0', 'db 0xd4, 0x00'],
  ] as const) {
    it(`#DE on ${name}, EIP at the faulting instruction`, () => {
      const r = runFlat(`${code}\nhlt`);
      expect(r.stop).toBe('exception');
      expect(r.m.cpu.lastException).toEqual({ vector: 0, errorCode: null });
    });
  }
  it('aam and aad', () => {
    const r = runFlat('mov eax,77\naam\nmov ebx,eax\nmov eax,0x0705\naad\nhlt');
    expect(r.ebx & 0xffff).toBe(0x0707);
    expect(r.eax & 0xffff).toBe(75);
  });
});

describe('bit, exchange and conversion instructions', () => {
  it('bts with a register offset beyond the dword addresses the next dword', () => {
    const r = runFlat('mov dword [0x2000],0\nmov dword [0x2004],0\nmov eax,34\nbts [0x2000],eax\nmov eax,[0x2004]\nhlt');
    expect(r.eax).toBe(4);
    expect(r.eflags & CF).toBe(0);
  });
  it('bt with a negative register offset addresses the previous dword', () => {
    const r = runFlat('mov dword [0x2000],0x80000000\nmov eax,-1\nbt [0x2004],eax\nhlt');
    expect(r.eflags & CF).toBe(CF);
  });
  it('btr/btc immediate forms wrap the bit index', () => {
    const r = runFlat('mov eax,0xff\nbtr eax,33\nbtc eax,40\nhlt');
    expect(r.eax).toBe(0xfd ^ 0x100);
  });
  it('shld and shrd', () => {
    const r = runFlat('mov eax,0x12345678\nmov edx,0x9abcdef0\nshld eax,edx,8\nmov ebx,0x12345678\nshrd ebx,edx,8\nhlt');
    expect(r.eax).toBe(0x3456789a);
    expect(r.ebx).toBe(0xf0123456);
  });
  it('cmpxchg success and failure', () => {
    const r = runFlat('mov eax,5\nmov ecx,5\nmov edx,9\ncmpxchg ecx,edx\nsetz bl\nmov eax,1\ncmpxchg ecx,edx\nsetz bh\nhlt');
    expect(r.ecx).toBe(9);
    expect(r.eax).toBe(9);
    expect(r.ebx & 0xffff).toBe(0x0001);
  });
  it('cmpxchg8b', () => {
    const r = runFlat('mov dword [0x2000],1\nmov dword [0x2004],2\nmov eax,1\nmov edx,2\nmov ebx,3\nmov ecx,4\ncmpxchg8b [0x2000]\nmov esi,[0x2000]\nmov edi,[0x2004]\nhlt');
    expect([r.esi, r.edi]).toEqual([3, 4]);
    expect(r.eflags & ZF).toBe(ZF);
  });
  it('xadd, bswap, movsx, movzx, cbw/cwde/cdq', () => {
    const r = runFlat('mov eax,3\nmov ecx,4\nxadd eax,ecx\nmov edx,0x11223344\nbswap edx\nmov bl,0x80\nmovsx esi,bl\nmovzx edi,bl\nhlt');
    expect([r.eax, r.ecx, r.edx, r.esi, r.edi]).toEqual([7, 3, 0x44332211, 0xffffff80, 0x80]);
  });
  it('setcc and cmovcc', () => {
    const r = runFlat('mov eax,1\nxor ebx,ebx\ncmp eax,2\nsetl cl\nsetb dl\nsetg dh\ncmovl ebx,eax\nhlt');
    expect(r.ecx & 0xff).toBe(1);
    expect(r.edx & 0xffff).toBe(0x0001);
    expect(r.ebx).toBe(1);
  });
  it('lahf/sahf round trip', () => {
    const r = runFlat('mov ah,0xd5\nsahf\nmov ah,0\nlahf\nmovzx eax,ah\nhlt');
    expect(r.eax).toBe(0xd7);
  });
  it('xlat', () => {
    const r = runFlat('mov byte [0x2005],0x77\nmov ebx,0x2000\nmov al,5\nxlatb\nhlt');
    expect(r.eax & 0xff).toBe(0x77);
  });
});

describe('signed divide across the double/BigInt boundary', () => {
  const cases: Array<[number, number, number, number, number]> = [
    // [edx, eax, divisor, quotient, remainder] (checked with exact integer arithmetic)
    [0xffffffff, 0xfffffff9, 2, -3, -1],
    [0x000fffff, 0xffffffff, 0x10000000, Number(0x000fffffffffffffn / 0x10000000n), Number(0x000fffffffffffffn % 0x10000000n)],
    [0x3fffffff, 0x00000000, 0x7fffffff, Number((0x3fffffff00000000n) / 0x7fffffffn), Number((0x3fffffff00000000n) % 0x7fffffffn)],
    [0xffe00000, 0x00000001, 0x7fffffff, Number((-0x001fffffffffffffn) / 0x7fffffffn), Number((-0x001fffffffffffffn) % 0x7fffffffn)],
    [0xfff00000, 0x00000000, -0x7fffffff, Number((-0x0010000000000000n) / -0x7fffffffn), Number((-0x0010000000000000n) % -0x7fffffffn)],
  ];
  for (const [edx, eax, divisor, q, r] of cases) {
    it(`idiv ${edx.toString(16)}:${eax.toString(16)} / ${divisor}`, () => {
      const res = runFlat(`mov edx,${edx}\nmov eax,${eax}\nmov ecx,${divisor}\nidiv ecx\nhlt`);
      expect(res.eax | 0).toBe(q | 0);
      expect(res.edx | 0).toBe(r | 0);
    });
  }
});

describe('divide: quotients near 2^32 are exact (no floating-point rounding)', () => {
  it('div where the true quotient is just below an integer', () => {
    // dividend = s * k - 1 with k close to 2^32: floor must give k - 1, remainder s - 1.
    const s = 0x1fffffn, k = 0xfffffff0n; // dividend just below 2^53: the double path
    const a = s * k - 1n;
    const r = runFlat(`mov edx,${Number(a >> 32n)}\nmov eax,${Number(a & 0xffffffffn)}\nmov ecx,${Number(s)}\ndiv ecx\nhlt`);
    expect(r.eax).toBe(Number(k - 1n));
    expect(r.edx).toBe(Number(s - 1n));
  });
});

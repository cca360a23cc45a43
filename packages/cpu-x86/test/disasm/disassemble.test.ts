import { describe, expect, it } from 'vitest';
import { disassemble, disassembleRange } from '../../src/disasm/disassemble.js';

const text = (hex: string, mode: 16 | 32 = 32, address?: number): string => {
  const bytes = Uint8Array.from(hex.split(' ').map((h) => parseInt(h, 16)));
  const d = disassemble(bytes, 0, address === undefined ? { mode } : { mode, address });
  expect(d.length).toBe(bytes.length);
  return d.text;
};

describe('disassemble', () => {
  it('formats ModRM/SIB memory operands with sizes', () => {
    expect(text('8b 44 8b 10')).toBe('mov eax, dword ptr [ebx+ecx*4+0x10]');
    expect(text('8b 40 f0')).toBe('mov eax, dword ptr [eax-0x10]');
    expect(text('8b 40 f0', 16)).toBe('mov ax, word ptr [bx+si-0x10]');
    expect(text('64 8b 05 10 00 00 00')).toBe('mov eax, dword ptr fs:[0x10]');
    expect(text('a1 78 56 34 12')).toBe('mov eax, [0x12345678]');
  });

  it('computes relative targets from the address, wrapping IP in 16-bit code', () => {
    expect(text('e9 fb 0f 00 00', 32, 0x400000)).toBe('jmp 0x401000');
    expect(text('eb fe', 16, 0xffff)).toBe('jmp 0xffff');
    expect(text('74 10', 16, 0xfff0)).toBe('je 0x2');
  });

  it('handles prefixes like a real disassembler', () => {
    expect(text('f3 a4')).toBe('rep movsb');
    expect(text('f3 a6')).toBe('repz cmpsb');
    expect(text('2e a5')).toBe('movs dword ptr es:[edi], dword ptr cs:[esi]');
    expect(text('f0 0f c7 0e')).toBe('lock cmpxchg8b qword ptr [esi]');
    expect(text('66 b8 34 12')).toBe('mov ax, 0x1234');
    expect(text('2e 90')).toBe('cs nop');
    expect(text('66 60')).toBe('pushaw');
    expect(text('67 e3 00')).toBe('jcxz 0x3');
  });

  it('names system, far and x87 instructions', () => {
    expect(text('0f 20 c0')).toBe('mov eax, cr0');
    expect(text('0f 22 d8')).toBe('mov cr3, eax');
    expect(text('ea 00 10 40 00 08 00')).toBe('jmp 0x8:0x401000');
    expect(text('ff 2b')).toBe('jmp fword ptr [ebx]');
    expect(text('db 28')).toBe('fld tbyte ptr [eax]');
    expect(text('de c1')).toBe('faddp st(1), st');
    expect(text('df e0')).toBe('fnstsw ax');
    expect(text('83 c0 f0')).toBe('add eax, 0xfffffff0');
  });

  it('reports (bad) of length 1 for opcodes the CPU does not implement', () => {
    const d = disassemble(Uint8Array.of(0x0f, 0x0d, 0x00), 0, { mode: 32 });
    expect(d).toEqual({ length: 1, mnemonic: '(bad)', operands: [], text: '(bad)' });
    expect(text('0f 0b')).toBe('ud2');
  });

  it('splits mnemonic and operands', () => {
    const d = disassemble(Uint8Array.of(0x0f, 0xa4, 0xd8, 0x05), 0, { mode: 32 });
    expect(d).toEqual({ length: 4, mnemonic: 'shld', operands: ['eax', 'ebx', '0x5'], text: 'shld eax, ebx, 0x5' });
  });

  it('walks a range with addresses', () => {
    const lines = disassembleRange(Uint8Array.of(0x55, 0x89, 0xe5, 0xeb, 0xfb), 0, 10, { mode: 32, address: 0x1000 });
    expect(lines.map((l) => `${l.address.toString(16)} ${l.text}`)).toEqual(['1000 push ebp', '1001 mov ebp, esp', '1003 jmp 0x1000']);
  });
});

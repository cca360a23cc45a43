import { describe, expect, it } from 'vitest';
import { flat, runFlat } from './support/harness.js';

describe('control transfer', () => {
  it('loop counts ECX down', () => {
    const r = runFlat('mov ecx,10\nxor eax,eax\nl: inc eax\nloop l\nhlt');
    expect([r.eax, r.ecx]).toEqual([10, 0]);
  });
  it('jecxz and loopne', () => {
    const r = runFlat('xor ecx,ecx\njecxz z\nmov eax,1\nhlt\nz: mov ecx,5\nmov ebx,0\nl: inc ebx\ncmp ebx,3\nloopne l\nmov eax,2\nhlt');
    expect([r.eax, r.ebx, r.ecx]).toEqual([2, 3, 2]);
  });
  it('call/ret with immediate pop', () => {
    const r = runFlat('push 7\ncall f\nhlt\nf: mov eax,[esp+4]\nret 4');
    expect(r.eax).toBe(7);
    expect(r.esp).toBe(0x8000);
  });
  it('indirect call and jump through memory', () => {
    const r = runFlat('mov dword [0x2000],f\ncall [0x2000]\nmov dword [0x2004],done\njmp [0x2004]\nhlt\nf: mov eax,5\nret\ndone: mov ebx,6\nhlt');
    expect([r.eax, r.ebx]).toEqual([5, 6]);
  });
  it('jcc on signed and unsigned conditions', () => {
    const r = runFlat('xor eax,eax\nmov ecx,-1\ncmp ecx,1\njl a\nor eax,1\na: cmp ecx,1\nja b\nor eax,2\nb: hlt');
    expect(r.eax).toBe(0);
  });
});

describe('stack', () => {
  it('pusha/popa round trip and the pushed ESP', () => {
    const r = runFlat('mov eax,1\nmov ecx,2\nmov edx,3\nmov ebx,4\nmov ebp,6\nmov esi,7\nmov edi,8\npushad\nmov esi,[esp+12]\nmov [0x2000],esi\nmov [esp+8],dword 33\npopad\nhlt');
    // Memory order from ESP up: EDI ESI EBP ESP EBX EDX ECX EAX.
    expect([r.eax, r.ecx, r.edx, r.ebx, r.ebp, r.esi, r.edi, r.esp]).toEqual([1, 2, 3, 4, 33, 7, 8, 0x8000]);
    expect(r.m.memory.readPhys32(0x2000)).toBe(0x8000);
  });
  it('enter/leave with nesting level', () => {
    const r = runFlat('mov ebp,0x7000\nenter 16,2\nmov eax,ebp\nmov ebx,esp\nmov ecx,[ebp-4]\nleave\nhlt');
    // frame = 0x8000-4; level 2 copies [ebp-4] of the old frame then pushes the frame pointer.
    expect(r.eax).toBe(0x7ffc);
    expect(r.ebx).toBe(0x7ffc - 8 - 16);
    expect(r.ebp).toBe(0x7000);
    expect(r.esp).toBe(0x8000);
  });
  it('pop to memory addressed by ESP uses the incremented ESP', () => {
    const r = runFlat('push 0x1234\npush 0x5678\npop dword [esp]\nmov eax,[esp]\nhlt');
    expect(r.eax).toBe(0x5678);
  });
  it('pushf/popf', () => {
    const r = runFlat('stc\npushfd\npop eax\nand eax,1\npush dword 0x8d5\npopfd\npushfd\npop ebx\nhlt');
    expect(r.eax).toBe(1);
    expect(r.ebx & 0x8d5).toBe(0x8d5);
  });
});

describe('string instructions', () => {
  it('rep movsb copies and leaves ECX/ESI/EDI advanced', () => {
    const r = runFlat('mov esi,msg\nmov edi,0x3000\nmov ecx,5\ncld\nrep movsb\nmov eax,[0x3000]\nhlt\nmsg: db "hello"');
    expect(r.eax).toBe(0x6c6c6568);
    expect(r.ecx).toBe(0);
    expect(r.edi).toBe(0x3005);
  });
  it('rep stosd backwards', () => {
    const r = runFlat('std\nmov edi,0x300c\nmov eax,0xabcdabcd\nmov ecx,4\nrep stosd\ncld\nmov ebx,[0x3000]\nhlt');
    expect(r.ebx).toBe(0xabcdabcd);
    expect(r.edi).toBe(0x2ffc);
  });
  it('repne scasb finds a byte', () => {
    const r = runFlat('mov edi,msg\nmov al,"l"\nmov ecx,10\nrepne scasb\nhlt\nmsg: db "hello"');
    expect(r.ecx).toBe(7);
  });
  it('repe cmpsb stops at the first difference', () => {
    const r = runFlat('mov esi,a\nmov edi,b\nmov ecx,8\nrepe cmpsb\nhlt\na: db "abcdefgh"\nb: db "abcXefgh"');
    expect(r.ecx).toBe(4);
    expect(r.eflags & 0x40).toBe(0);
  });
  it('overlapping rep movsb forward replicates the pattern like hardware (element by element)', () => {
    const r = runFlat('mov dword [0x3000], 0x00004241\nmov esi,0x3000\nmov edi,0x3002\nmov ecx,6\nrep movsb\nmov eax,[0x3004]\nmov ebx,[0x3000]\nhlt');
    expect(r.ebx).toBe(0x42414241);
    expect(r.eax).toBe(0x42414241);
  });
  it('overlapping rep movsd moves whole dwords (read 4, write 4), as hardware does', () => {
    const r = runFlat('mov dword [0x3000],0x04030201\nmov dword [0x3004],0x08070605\nmov dword [0x3008],0x0c0b0a09\nmov esi,0x3000\nmov edi,0x3002\nmov ecx,2\nrep movsd\nhlt');
    expect(Array.from(r.m.memory.ram.slice(0x3000, 0x300a))).toEqual([1, 2, 1, 2, 3, 4, 3, 4, 7, 8]);
  });
  it('rep stosd across many pages, unaligned, fills exactly', () => {
    const r = runFlat('mov edi,0x10001\nmov ecx,5000\nmov eax,0x11223344\nrep stosd\nhlt');
    const mem = r.m.memory;
    expect(mem.readPhys32(0x10001)).toBe(0x11223344);
    expect(mem.readPhys32(0x10001 + 4 * 4999)).toBe(0x11223344);
    expect(mem.readPhys8(0x10000)).toBe(0);
    expect(mem.readPhys8(0x10001 + 4 * 5000)).toBe(0);
    expect(r.edi).toBe(0x10001 + 20000);
  });
  it('short rep stos of bytes, words and dwords, aligned or not, fill exactly their elements', () => {
    // (Short fills take a loop instead of TypedArray.fill: the last element and the byte after it tell.)
    for (const [form, size, value] of [['stosb', 1, 0xa5], ['stosw', 2, 0xbeef], ['stosd', 4, 0x11223344]] as const) {
      for (const [at, count] of [[0x3000, 40], [0x3101, 40], [0x3200, 1], [0x3303, 63], [0x3400, 64], [0x3500, 65]]) {
        const r = runFlat(`mov edi,${at}\nmov ecx,${count}\nmov eax,${value}\nrep ${form}\nhlt`);
        const ram = r.m.memory.ram, bytes = count * size;
        const expected = Array.from({ length: bytes }, (_, i) => (value >>> ((i % size) * 8)) & 0xff);
        expect([ram[at - 1], ...ram.slice(at, at + bytes), ram[at + bytes]], `${form} ${count} at ${at.toString(16)}`).toEqual([0, ...expected, 0]);
        expect(r.edi).toBe(at + bytes);
        expect(r.ecx).toBe(0);
      }
    }
  });
  it('rep movsd over the code it is running from still invalidates decoded instructions', () => {
    const r = runFlat('mov esi,src\nmov edi,dst\nmov ecx,1\nrep movsd\ndst: mov eax,0\nhlt\nsrc: mov eax,7\nhlt');
    expect(r.eax).toBe(7);
  });
  it('a long rep stosb yields to the budget and resumes', () => {
    const m = flat('mov edi,0x10000\nmov ecx,1000000\nmov al,1\nrep stosb\nhlt');
    let runs = 0;
    while (m.cpu.run(3) === 'budget') runs++;
    expect(runs).toBeGreaterThan(5);
    const r = m.cpu.getRegisters();
    expect(r.ecx).toBe(0);
    expect(m.memory.ram[0x10000 + 999999]).toBe(1);
    expect(m.memory.ram[0x10000 + 1000000]).toBe(0);
  });
});

describe('port I/O', () => {
  it('in/out with immediate and DX ports', () => {
    const r = runFlat('mov al,0x41\nout 0x80,al\nmov dx,0x3f8\nmov eax,0x12345678\nout dx,eax\nin al,dx\nhlt');
    expect(r.m.io.writes).toEqual([[0x80, 1, 0x41], [0x3f8, 4, 0x12345678]]);
    expect(r.eax & 0xff).toBe(0xff);
  });
  it('rep outsb', () => {
    const r = runFlat('mov esi,msg\nmov ecx,3\nmov dx,0xe9\nrep outsb\nhlt\nmsg: db "abc"');
    expect(r.m.io.writes.map((w) => w[2])).toEqual([0x61, 0x62, 0x63]);
  });
});

describe('near branches and the CS limit', () => {
  it('a near jump beyond the CS limit faults on the jump itself', async () => {
    const { pmMachine, record } = await import('./support/pm-program.js');
    // 16-bit code segment (limit 0xFFFF): a JMP to 0x10000 via a 32-bit operand size is out of limits.
    const m = pmMachine(`
      jmp 0x30:code16
    bits 16
    code16:
      mov cx, 5
    here:
      jmp dword 0x10000
    bits 32`);
    m.cpu.run(100000);
    const r = record(m);
    expect(r.vector).toBe(13);
    expect(r.error).toBe(0);
    expect(r.cs).toBe(0x30);
    expect(m.memory.ram[r.eip]).toBe(0x66); // the jump (with its operand-size prefix), not its target
  });
});

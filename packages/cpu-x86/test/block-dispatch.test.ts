import { describe, expect, it } from 'vitest';
import { asm, flat, machine, runFlat } from './support/harness.js';

// Straight-line code runs as decoded basic blocks; these pin down the per-instruction guarantees
// that must survive executing a whole block per dispatch.
describe('basic-block dispatch', () => {
  it('stops exactly at the budget in the middle of a block and resumes there', () => {
    const m = flat('times 10 inc eax\nhlt');
    expect(m.cpu.run(3)).toBe('budget');
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 3, eip: 0x1003 });
    expect(m.cpu.instructionsRetired).toBe(3);
    expect(m.cpu.run(4)).toBe('budget');
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 7, eip: 0x1007 });
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.getRegisters().eax).toBe(10);
    expect(m.cpu.instructionsRetired).toBe(11);
  });

  it('requestStop() from a port write ends run() after that instruction, compiled or not', () => {
    for (const compileThreshold of [1, 65535]) {
      // A loop that writes port 0x80 on every 100th pass; the machine asks to stop on each write.
      const m = flat(`
        mov ecx, 1000
      l: inc eax
        test eax, 63
        jnz skip
        out 0x80, al
      skip:
        dec ecx
        jnz l
        hlt`, { compileThreshold });
      m.io.write = (port, size, value): void => { m.io.writes.push([port, size, value]); m.cpu.requestStop(); };
      expect(m.cpu.run(100000)).toBe('budget');
      // MOV, then 64 passes of INC/TEST/JNZ/DEC/JNZ with the OUT of the 64th pass the last retired.
      expect(m.cpu.getRegisters().eax).toBe(64);
      expect(m.cpu.instructionsRetired).toBe(1 + 63 * 5 + 4);
      expect(m.cpu.run(100000)).toBe('budget');
      expect(m.cpu.getRegisters().eax).toBe(128);
      // A request made between run() calls is dropped: the next run() is a whole one.
      m.cpu.requestStop();
      m.io.write = (port, size, value): void => { m.io.writes.push([port, size, value]); };
      expect(m.cpu.run(100000)).toBe('halt');
      expect(m.cpu.getRegisters().eax).toBe(1000);
      expect(m.io.writes.length).toBe(15);
    }
  });

  it('a fault in the middle of a block reports that instruction and retires only the ones before it', () => {
    const m = flat('inc eax\ninc eax\nxor ecx, ecx\nfault: div ecx\ninc eax\nhlt');
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException?.vector).toBe(0);
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 2, eip: 0x1004 });
    expect(m.cpu.instructionsRetired).toBe(3);
  });

  it('a taken conditional branch in the middle of a block leaves it; a not-taken one falls through', () => {
    const r = runFlat(`
      mov ecx, 3
    l: inc eax
      dec ecx
      jnz l
      add eax, 100
      xor ecx, ecx
      jnz l
      add eax, 1000
      hlt`);
    expect(r.stop).toBe('halt');
    expect(r.eax).toBe(1103);
  });

  it('a store into a later instruction of the block being executed is seen by that instruction', () => {
    const r = runFlat('mov byte [t+1], 0x42\nnop\nnop\nt: mov al, 0\nhlt');
    expect(r.eax & 0xff).toBe(0x42);
  });

  it('a store into an already built block changes it on the next pass', () => {
    // Each pass patches the immediate of `t` (inside the running block) with CL.
    const r = runFlat('mov ecx, 3\nxor edx, edx\nl: mov [t+1], cl\nnop\nt: mov bl, 0\nadd dl, bl\nloop l\nhlt');
    expect(r.edx & 0xff).toBe(3 + 2 + 1);
  });

  it('a block that runs into the real-mode 64 KiB CS limit faults on the crossing instruction', () => {
    const m = machine({ stopOnException: true });
    // CS base 0x1000: offsets FFF8..FFFD are NOPs, the MOV at FFFE would end at 0x10000.
    m.memory.ram.set(asm('times 6 nop\nmov ax, 0x1234', 16, 0xfff8), 0x1000 + 0xfff8);
    m.cpu.setRegisters({ cs: 0x100, eip: 0xfff8 });
    expect(m.cpu.run(100)).toBe('exception');
    expect(m.cpu.lastException?.vector).toBe(13);
    expect(m.cpu.getRegisters().eip).toBe(0xfffe);
    expect(m.cpu.instructionsRetired).toBe(6);
  });

  it('an instruction crossing into the next page still runs after a block that ends at the page end', () => {
    const m = flat('jmp 0x1ff0');
    m.memory.ram.set(asm('times 13 inc eax\nmov ebx, 0x11223344\nhlt', 32, 0x1ff0), 0x1ff0);
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.getRegisters()).toMatchObject({ eax: 13, ebx: 0x11223344 });
  });

  it('after MOV CR3 in the middle of a block the next instruction is fetched through the new page tables', () => {
    const program = (marker: number): string => `mov eax, 0x102000\nmov cr3, eax\nmov ebx, ${marker}\nhlt`;
    const m = flat(program(1));
    // Tables 1 (PD 0x100000) identity-map 0-4 MiB; tables 2 (PD 0x102000) map linear 0x1000 to 0x5000.
    m.memory.ram.set(asm(program(2), 32, 0x1000), 0x5000);
    m.memory.writePhys32(0x100000, 0x101007);
    m.memory.writePhys32(0x102000, 0x103007);
    for (let i = 0; i < 1024; i++) {
      m.memory.writePhys32(0x101000 + i * 4, (i << 12) | 7);
      m.memory.writePhys32(0x103000 + i * 4, ((i === 1 ? 5 : i) << 12) | 7);
    }
    m.cpu.setRegisters({ cr3: 0x100000 });
    m.cpu.setRegisters({ cr0: (m.cpu.getRegisters().cr0 | 0x80000000) >>> 0 });
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.getRegisters().ebx).toBe(2);
  });

  it('specialised 32-bit register ALU forms give the generic results and flags', () => {
    const r = runFlat(`
      mov eax, 0x7fffffff
      mov ecx, 1
      add eax, ecx        ; 01 /r: overflow to 0x80000000
      pushfd
      mov edx, 5
      sub edx, eax        ; 29 /r
      pushfd
      mov esi, 3
      adc esi, ecx        ; 11 /r with CF from the SUB (borrow) = 1
      cmp esi, 5          ; 83 /7
      pushfd
      xor edi, edi
      or edi, 0x40        ; 81 /1
      and ecx, edi        ; 21 /r -> 0, ZF
      pushfd
      pop ebx
      pop ebp
      hlt`);
    expect(r.eax).toBe(0x80000000);
    expect(r.edx).toBe(0x80000005);
    expect(r.esi).toBe(5);
    expect(r.edi).toBe(0x40);
    expect(r.ecx).toBe(0);
    expect(r.ebx & 0x8c5).toBe(0x44); // AND: ZF PF, no CF/OF/SF
    expect(r.ebp & 0x8c1).toBe(0x40); // CMP 5,5: ZF only
  });
});

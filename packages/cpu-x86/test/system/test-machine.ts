import { Cpu, type StopReason } from '@typevisor/cpu-x86';
import { PhysicalMemory } from '@typevisor/mmu';
import { DebugPorts } from './debug-ports.js';
import { loadMultiboot, MULTIBOOT_BOOTLOADER_MAGIC, writeMultibootInfo } from './multiboot.js';

const RAM_SIZE = 16 << 20;
const MULTIBOOT_INFO = 0x9000;

export interface SystemRun {
  output: string;
  exited: boolean;
  stop: StopReason;
  instructions: number;
}

/**
 * A minimal machine for the system tests: RAM, a CPU, the debug console/exit ports. Boots a
 * multiboot kernel the way QEMU's -kernel does (32-bit flat protected mode, paging off, CPL 0,
 * EAX = magic, EBX = info) and runs it until it writes the exit port, halts, or the budget runs out.
 */
export function runMultibootKernel(image: Uint8Array, budget = 50_000_000): SystemRun {
  const memory = new PhysicalMemory({ ramSize: RAM_SIZE });
  const ports = new DebugPorts();
  const cpu = new Cpu({ memory, io: ports });
  const kernel = loadMultiboot(memory, image);
  writeMultibootInfo(memory, MULTIBOOT_INFO);
  cpu.enterFlatProtectedMode(0);
  cpu.setRegisters({ eax: MULTIBOOT_BOOTLOADER_MAGIC, ebx: MULTIBOOT_INFO, eip: kernel.entry, eflags: 0x2 });
  let stop: StopReason = 'budget';
  let left = budget;
  while (left > 0 && !ports.exited) {
    const chunk = Math.min(left, 100_000);
    const before = cpu.instructionsRetired;
    stop = cpu.run(chunk);
    left -= Math.max(1, cpu.instructionsRetired - before);
    if (stop === 'halt' || stop === 'shutdown') break;
  }
  return { output: ports.output, exited: ports.exited, stop, instructions: cpu.instructionsRetired };
}

import { BootImageError } from '../errors.js';
import { LOW_MEMORY } from '../layout.js';
import type { BootPlan, RamSegment } from './boot-plan.js';
import { hex } from './boot-plan.js';
import type { E820Entry } from './e820.js';
import { buildBootRom } from './entry-stub.js';
import { parseLinuxHeader } from './linux-header.js';
import { buildZeroPage } from './zero-page.js';

const HIGH = LOW_MEMORY.highMemory;

/** Inputs of {@link planLinuxBoot}. */
export interface LinuxBootInput {
  readonly kernel: Uint8Array;
  readonly initrd: Uint8Array | null;
  readonly cmdline: string;
  readonly memorySize: number;
  readonly e820: readonly E820Entry[];
  /** Physical address of the ACPI RSDP, or 0 without ACPI. */
  readonly acpiRsdp: number;
}

/** Everything needed at once so that a kernel is never half loaded: checks first, then the plan. */
export function planLinuxBoot(input: LinuxBootInput): BootPlan {
  const header = parseLinuxHeader(input.kernel);
  const { memorySize } = input;
  const kernelLoadEnd = HIGH + header.kernelSize;
  // A kernel loaded below its preferred address decompresses itself to prefAddress (relocatable
  // kernels align up but never go below LOAD_PHYSICAL_ADDR), and needs initSize bytes there.
  const kernelEnd = Math.max(kernelLoadEnd, header.prefAddress + header.initSize);
  if (kernelEnd > memorySize) {
    throw new BootImageError(
      'too-big',
      `kernel needs RAM up to ${hex(kernelEnd)} (${Math.ceil(kernelEnd / 1048576)} MiB) but the guest has ${memorySize / 1048576} MiB; give it more memory`,
    );
  }
  const cmdline = new TextEncoder().encode(input.cmdline);
  if (cmdline.length > header.cmdlineSize) {
    throw new BootImageError('too-big', `command line is ${cmdline.length} bytes; this kernel accepts at most ${header.cmdlineSize}`);
  }
  const segments: RamSegment[] = [
    { address: HIGH, bytes: input.kernel.subarray(header.kernelOffset), name: 'protected-mode kernel' },
    { address: LOW_MEMORY.cmdline, bytes: nulTerminated(cmdline), name: 'command line' },
  ];
  let initrdAddress = 0;
  if (input.initrd !== null) {
    const top = Math.min(header.initrdAddrMax + 1, memorySize);
    initrdAddress = Math.floor((top - input.initrd.length) / 4096) * 4096;
    if (initrdAddress < kernelEnd) {
      throw new BootImageError(
        'too-big',
        `initrd of ${input.initrd.length} bytes does not fit between the kernel (ends ${hex(kernelEnd)}) and ${hex(top)}; give the guest more memory`,
      );
    }
    segments.push({ address: initrdAddress, bytes: input.initrd, name: 'initrd' });
  }
  const zeroPage = buildZeroPage({
    kernel: input.kernel,
    headerEnd: header.headerEnd,
    e820: input.e820,
    cmdlineAddress: LOW_MEMORY.cmdline,
    initrdAddress,
    initrdSize: input.initrd?.length ?? 0,
    acpiRsdp: input.acpiRsdp,
    memorySize,
  });
  segments.push({ address: LOW_MEMORY.bootParams, bytes: zeroPage, name: 'zero page (boot_params)' });
  const entry = {
    entry: header.code32Start, esi: LOW_MEMORY.bootParams, esp: LOW_MEMORY.bootParams,
    eax: 0, ebx: 0, ecx: 0, edx: 0, edi: 0, ebp: 0,
  };
  const version = `${header.version >> 8}.${(header.version & 0xff).toString().padStart(2, '0')}`;
  return {
    kind: 'linux',
    segments,
    roms: [buildBootRom(entry)],
    entry,
    summary: [
      `Linux boot protocol ${version}, kernel ${header.kernelSize} bytes at ${hex(HIGH)}, entry ${hex(header.code32Start)}` +
        `${header.relocatable ? ', relocatable' : ''}, runs at ${hex(header.prefAddress)}..${hex(kernelEnd)}`,
      input.initrd === null ? 'no initrd' : `initrd ${input.initrd.length} bytes at ${hex(initrdAddress)}`,
      `command line (${cmdline.length} bytes): ${input.cmdline}`,
    ],
  };
}

function nulTerminated(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

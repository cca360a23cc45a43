/** `typevisor --help`. */
export const MAIN_HELP = `typevisor - a pure-TypeScript x86 (i686) hypervisor

Usage: typevisor <command> [options]

Commands:
  run     boot one machine in this process (see: typevisor run --help)
  serve   run the VM manager API server            (not available yet)
  ctl     talk to a running typevisor serve         (not available yet)
  bench   run the benchmark suite                   (not available yet)

Options:
  -h, --help     show this help
      --version  print the version

Example:
  typevisor run                      boot the default guest (Linux + busybox) to a shell
`;

/** `typevisor run --help`. */
export const RUN_HELP = `Usage: typevisor run [options]

Boots one x86 machine (a microVM: no PCI; 16550 UART, PIC, PIT, RTC, ACPI, virtio-mmio devices).
Without --kernel or --bios it boots the default guest from the repository's guest/images/.

Boot:
  --kernel FILE        Linux bzImage or multiboot v1 kernel.
                         e.g. --kernel guest/images/bzImage
  --initrd FILE        initial RAM disk (Linux initrd or the first multiboot module).
                         e.g. --initrd guest/images/initramfs.cpio.gz
  --append STR         kernel command line (default for the default guest: "console=ttyS0 panic=-1").
                         e.g. --append "console=ttyS0 quiet"
  --bios FILE          raw firmware ROM started at the reset vector (instead of --kernel).
                         e.g. --bios rom.bin
  -m, --mem SIZE       guest RAM: 128M (default), 1G, or a number of MiB.
                         e.g. --mem 256M

Devices:
  --disk FILE[,ro]     a virtio-blk disk backed by FILE (size a multiple of 512); ",ro" = read-only.
                       Repeat for more disks (vda, vdb, ...).   e.g. --disk root.img --disk data.img,ro
  --net none|switch:NAME
                       a virtio-net NIC on an in-process switch NAME (default none).
                         e.g. --net switch:lan
  --serial stdio|file:PATH|none
                       where COM1 (ttyS0) goes (default stdio).   e.g. --serial file:serial.log
  --debugcon stdio|file:PATH|none
                       where the debug console port 0xE9 goes (default none).
                         e.g. --debugcon stdio

Clock:
  --clock realtime|deterministic
                       realtime (default): virtual time follows the host clock.
                       deterministic: time = instructions / rate (100 MIPS), so runs are
                       reproducible; idle time is slept off when --serial is stdio.
                         e.g. --clock deterministic

Other:
      --no-reboot      stop when the guest resets (default: boot the same images again).
                         e.g. --no-reboot
  -v, --verbose        print the memory map, what was loaded, the time to the first shell prompt
                       and the counters at exit (on stderr).
  -h, --help           show this help

On the serial console, Ctrl-A X quits and Ctrl-A Ctrl-A sends Ctrl-A.
Exit status: 0 when the guest powers off (or resets with --no-reboot); (value << 1) | 1 when it writes value to port 0xF4;
1 on a triple fault or internal error; 2 on a usage error.

Example:
  typevisor run --mem 256M --disk disk.img --append "console=ttyS0 root=/dev/vda"
`;

/** `typevisor --help`. */
export const MAIN_HELP = `typevisor - a pure-TypeScript x86 (i686) hypervisor

Usage: typevisor <command> [options]

Commands:
  run          boot one machine in this process          (typevisor run --help)
  serve        run the VM manager and its HTTP API       (typevisor serve --help)
  ctl          control VMs of a running typevisor serve  (typevisor ctl --help)
  firecracker  serve Firecracker's REST API for one VM   (typevisor firecracker --help)
  bench        run the benchmark suite                   (typevisor bench --help)

Options:
  -h, --help     show this help
      --version  print the version

Examples:
  typevisor run                                   boot the default guest (Linux + busybox) to a shell
  typevisor serve --socket /tmp/tv.sock &         start the manager
  typevisor ctl --socket /tmp/tv.sock create web --mem 128M --net switch:lan
`;

/** `typevisor serve --help`. */
export const SERVE_HELP = `Usage: typevisor serve [--socket PATH | --port N] [--host-memory MiB]

Runs the VM manager: every VM in its own worker thread, controlled through an HTTP+JSON API
(GET /openapi.json describes it). Stops every VM on Ctrl-C or SIGTERM.

  --socket PATH        listen on a Unix socket (default /tmp/typevisor.sock).
                         e.g. --socket /run/typevisor.sock
  --port N             listen on TCP port N of 127.0.0.1 instead.
                         e.g. --port 8080
  --host-memory MiB    host memory all VMs together may use (guest RAM + worker overhead;
                       default 8192). A create beyond it is refused.   e.g. --host-memory 4096
`;

/** `typevisor ctl --help`. */
export const CTL_HELP = `Usage: typevisor ctl [--socket PATH | --port N] <command> [arguments]

Controls the VMs of a running \`typevisor serve\` (default socket /tmp/typevisor.sock).

Commands:
  ls                              list VMs with state, memory and uptime
  create ID [options]             create a VM (state: created). Options as for typevisor run:
                                    --mem SIZE  --kernel FILE  --initrd FILE  --append STR  --bios FILE
                                    --disk FILE[,ro] (repeatable)  --net switch:NAME (repeatable)
                                    --clock realtime|deterministic
                                  e.g. typevisor ctl create web --mem 128M --net switch:lan
  start|pause|resume|stop|reboot ID
  ctrl-alt-del ID                 press Ctrl-Alt-Del on the guest's keyboard
  delete ID                       delete a VM in any state
  inspect ID                      print a VM as JSON
  snapshot ID FILE                write a snapshot of a paused VM
                                    e.g. typevisor ctl pause web && typevisor ctl snapshot web web.snap
  restore ID FILE                 create VM ID from a snapshot (state: paused; resume it)
  console ID [--read-only]        attach the terminal to the VM's console (Ctrl-A X detaches;
                                  one writer at a time, any number of readers)
`;

/** `typevisor firecracker --help`. */
export const FIRECRACKER_HELP = `Usage: typevisor firecracker --api-sock PATH [--id ID]

Serves Firecracker's REST API for one microVM on a Unix socket, so tools written for Firecracker
drive typevisor unchanged. The guest's serial console is this process's stdout; the process ends
when the guest stops. Differences from Firecracker are listed in docs/quirks.md.

  --api-sock PATH      the API socket.   e.g. --api-sock /tmp/firecracker.socket
  --id ID              the microVM id reported by GET / (default anonymous-instance).

Example:
  typevisor firecracker --api-sock /tmp/fc.sock &
  curl --unix-socket /tmp/fc.sock -X PUT http://fc/boot-source \\
       -d '{"kernel_image_path":"guest/images/bzImage","initrd_path":"guest/images/initramfs.cpio.gz","boot_args":"console=ttyS0"}'
  curl --unix-socket /tmp/fc.sock -X PUT http://fc/actions -d '{"action_type":"InstanceStart"}'
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
                       and the counters at exit, with retired instructions by class (on stderr).
  -h, --help           show this help

On the serial console, Ctrl-A X quits and Ctrl-A Ctrl-A sends Ctrl-A.
Exit status: 0 when the guest powers off (or resets with --no-reboot); (value << 1) | 1 when it writes value to port 0xF4;
1 on a triple fault or internal error; 2 on a usage error.

Example:
  typevisor run --mem 256M --disk disk.img --append "console=ttyS0 root=/dev/vda"
`;

#!/usr/bin/env bash
# Boot the committed default guest under QEMU (TCG, no KVM) as an oracle and
# drive its serial console: banner, shell prompt, a few commands, poweroff.
#
#   bash guest/test-in-qemu.sh            # all scenarios
#   bash guest/test-in-qemu.sh pc p6      # only some (names below)
#
# Scenarios:
#   pc        -M pc, default CPU, local APIC + IO-APIC, ACPI poweroff
#   p6        -M pc -cpu pentium2 with "nolapic noapic" (plain P6, 8259 PIC),
#             1 GiB of RAM (kernel keeps 896 MiB), reboot -f
#   microvm   -M microvm (no PCI), virtio-mmio announced on the command line:
#             virtio-blk (ext2 disk), virtio-net, virtio-rng
#   acpi      -M microvm with virtio-mmio announced only through ACPI (LNRO0005)
#   hvc       -M microvm with the console on virtio-console (console=hvc0)
#
# Exits 0 when every selected scenario passed.  Needs qemu-system-i386
# (apt-get install qemu-system-x86), python3, and mke2fs for the disk test.
# QEMU_TIMEOUT (seconds, default 120) bounds each boot.
set -euo pipefail

GUEST_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KERNEL="${KERNEL:-$GUEST_DIR/images/bzImage}"
INITRD="${INITRD:-$GUEST_DIR/images/initramfs.cpio.gz}"
QEMU="${QEMU:-qemu-system-i386}"
export QEMU_TIMEOUT="${QEMU_TIMEOUT:-120}"

die() { printf 'ERROR [guest/test-in-qemu.sh]: %s\n' "$*" >&2; exit 1; }
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install -y qemu-system-x86)"
command -v python3 >/dev/null || die "python3 not found"
[[ -f "$KERNEL" ]] || die "missing $KERNEL (run: bash guest/build.sh)"
[[ -f "$INITRD" ]] || die "missing $INITRD (run: bash guest/build.sh)"

WORK="$(mktemp -d /tmp/typevisor-guest-test.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

# A small ext2 disk with a known file on it, for the virtio-blk test.
DISK=""
if command -v mke2fs >/dev/null; then
  mkdir -p "$WORK/disk-root"
  echo "hello from an ext2 disk" > "$WORK/disk-root/hello.txt"
  truncate -s 4M "$WORK/disk.img"
  mke2fs -q -F -t ext2 -L tvdisk -d "$WORK/disk-root" "$WORK/disk.img"
  DISK="$WORK/disk.img"
else
  echo "note: mke2fs not found; the virtio-blk test only checks that /dev/vda appears"
  truncate -s 4M "$WORK/disk.img"
fi

export KERNEL INITRD QEMU WORK DISK
rc=0
python3 - "$@" <<'PYEOF' || rc=$?
import os, re, select, subprocess, sys, time

KERNEL, INITRD, QEMU, WORK = (os.environ[k] for k in ("KERNEL", "INITRD", "QEMU", "WORK"))
HAVE_EXT2 = bool(os.environ.get("DISK"))
DISK = os.path.join(WORK, "disk.img")
TIMEOUT = float(os.environ["QEMU_TIMEOUT"])
BANNER = "typevisor guest ready"
PROMPT = "/ # "


def host_tsc_khz():
    """QEMU TCG's guest TSC runs at the host's TSC rate."""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"^cpu MHz\s*:\s*([0-9.]+)", f.read(), re.M)
        return int(float(m.group(1)) * 1000)
    except (OSError, AttributeError):
        return 2000000


# QEMU's microvm has no HPET, no ACPI PM timer and no port 0x61, so the kernel
# cannot calibrate the TSC there (and without a TSC rate it has no working
# timer under TCG): tell it the rate.  See guest/README.md, "Timers".
MICROVM_TSC = f"tsc_early_khz={host_tsc_khz()}"


KLOG = re.compile(r"\[ *\d+\.\d{6}\] [^\n]*\n")


class Fail(Exception):
    pass


class Guest:
    """Runs QEMU with the guest console on stdin/stdout and matches its output."""

    def __init__(self, name, args):
        self.name = name
        self.log = open(os.path.join(WORK, name + ".log"), "wb")
        print(f"[{name}] {QEMU} {' '.join(args)}", flush=True)
        self.start = time.monotonic()
        self.deadline = self.start + TIMEOUT
        self.p = subprocess.Popen([QEMU] + args, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.buf = ""   # output not yet consumed by expect()
        self.all = ""   # everything

    def _read(self, until):
        fd = self.p.stdout.fileno()
        r, _, _ = select.select([fd], [], [], max(0.0, min(until, self.deadline) - time.monotonic()))
        if not r:
            return False
        data = os.read(fd, 65536)
        if not data:
            return None
        self.log.write(data)
        self.log.flush()
        text = data.decode("utf-8", "replace").replace("\r", "")
        self.buf += text
        self.all += text
        return True

    def expect(self, pattern, timeout=None, what=None, skip_klog=False):
        """Waits for pattern in the output.  skip_klog: ignore kernel log lines,
        which the kernel may print into the middle of a line of user output."""
        until = time.monotonic() + (timeout if timeout else TIMEOUT)
        rx = re.compile(pattern)
        while True:
            text = KLOG.sub("", self.buf) if skip_klog else self.buf
            m = rx.search(text)
            if m:
                self.buf = text[m.end():]
                return m
            now = time.monotonic()
            if now >= until or now >= self.deadline:
                raise Fail(f"timed out waiting for {what or pattern!r}")
            got = self._read(until)
            if got is None:
                raise Fail(f"QEMU exited (status {self.p.wait()}) while waiting for {what or pattern!r}")

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def wait_exit(self, timeout=30):
        until = time.monotonic() + timeout
        while self.p.poll() is None and time.monotonic() < until:
            if self._read(until) is None:
                break
        try:
            return self.p.wait(timeout=max(0.1, until - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise Fail("QEMU did not exit after poweroff")

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        self.log.close()


def run_cmd(g, cmd, timeout=30):
    # The markers are computed by the shell, so the echoed command line (which
    # may be wrapped and decorated by line editing) never matches them.
    g.send(f"echo @@BEG$((6*7))@@; {cmd}; echo @@END$((6*7))@@")
    g.expect(r"@@BEG42@@\n", timeout, what=f"start of `{cmd}`")
    m = g.expect(r"(?s)^(.*?)@@END42@@\n", timeout, what=f"end of `{cmd}`")
    g.expect(re.escape(PROMPT), 10, what="prompt after command")
    return m.group(1)


def must(cond, msg):
    if not cond:
        raise Fail(msg)


def boot(g):
    g.expect(re.escape(BANNER), what="banner", skip_klog=True)
    t = time.monotonic() - g.start
    g.expect(re.escape(PROMPT), 30, what="shell prompt")
    print(f"[{g.name}] banner after {t:.1f}s", flush=True)
    return t


def poweroff(g, need_msg=True):
    g.send("poweroff -f")
    if need_msg:
        g.expect(r"reboot: Power down|ACPI: PM: Preparing to enter system sleep state S5", 30, what="kernel power-off message")
    rc = g.wait_exit(30)
    must(rc == 0, f"QEMU exit status {rc} after poweroff")
    print(f"[{g.name}] poweroff -f: QEMU exited", flush=True)


def common_checks(g):
    out = run_cmd(g, "uname -a")
    must(re.search(r"Linux typevisor 6\.\d+\.\d+-typevisor .* i[56]86 GNU/Linux", out), f"unexpected uname -a: {out!r}")
    print(f"[{g.name}] uname -a: {out.strip()}", flush=True)
    out = run_cmd(g, "cat /proc/cpuinfo")
    must("model name" in out and "fpu\t\t: yes" in out, f"unexpected /proc/cpuinfo: {out!r}")
    flags = re.search(r"flags\t\t: (.*)", out)
    print(f"[{g.name}] cpuinfo flags: {flags.group(1) if flags else '?'}", flush=True)
    out = run_cmd(g, "echo $((6*7)) && ls /dev/console /dev/null /proc/self/ >/dev/null && echo fs-ok")
    must("fs-ok" in out, f"basic shell/fs check failed: {out!r}")
    out = run_cmd(g, "awk 'BEGIN { printf \"%.3f\\n\", 1/3 }'")
    must("0.333" in out, f"floating point in awk failed: {out!r}")


def sc_pc():
    g = Guest("pc", ["-M", "pc", "-m", "128", "-nographic", "-no-reboot",
                     "-kernel", KERNEL, "-initrd", INITRD,
                     "-append", "console=ttyS0 panic=-1"])
    try:
        boot(g)
        common_checks(g)
        out = run_cmd(g, "cat /proc/interrupts")
        must("IO-APIC" in out, f"expected IO-APIC interrupts: {out!r}")
        out = run_cmd(g, "dmesg | grep -E 'ACPI: Interpreter enabled|ACPI: PM: \\(supports'")
        must("Interpreter enabled" in out and "S5" in out, f"ACPI did not come up with S5: {out!r}")
        poweroff(g)
        return g
    finally:
        g.close()


def sc_p6():
    # 1 GiB of RAM: the kernel has no highmem and must cap itself at 896 MiB.
    g = Guest("p6", ["-M", "pc", "-cpu", "pentium2", "-m", "1024", "-nographic", "-no-reboot",
                     "-kernel", KERNEL, "-initrd", INITRD,
                     "-append", "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 nolapic noapic"])
    try:
        boot(g)
        common_checks(g)
        out = run_cmd(g, "cat /proc/interrupts")
        must("XT-PIC" in out and "IO-APIC" not in out, f"expected 8259 (XT-PIC) interrupts only: {out!r}")
        out = run_cmd(g, "grep -o -w -E 'sse|sse2|apic' /proc/cpuinfo | sort -u | tr '\\n' ' '; echo")
        must("sse" not in out.split(), f"pentium2 should have no SSE: {out!r}")
        out = run_cmd(g, "free -m | grep Mem:")
        total = int(out.split()[1])
        must(700 < total <= 896, f"expected ~896 MiB of lowmem, got {out!r}")
        # -no-reboot turns the guest's reset into a QEMU exit.
        g.send("reboot -f")
        g.expect(r"reboot: Restarting system", 30, what="kernel restart message")
        rc = g.wait_exit(30)
        must(rc == 0, f"QEMU exit status {rc} after reboot")
        print(f"[{g.name}] {total} MiB usable; reboot -f: QEMU exited", flush=True)
        return g
    finally:
        g.close()


def microvm_devices(extra_machine=""):
    return ["-M", "microvm" + extra_machine, "-m", "128", "-nographic", "-no-reboot",
            "-kernel", KERNEL, "-initrd", INITRD,
            "-drive", f"id=d0,file={DISK},format=raw,if=none",
            "-device", "virtio-blk-device,drive=d0",
            "-netdev", "user,id=n0,restrict=on",
            "-device", "virtio-net-device,netdev=n0",
            "-device", "virtio-rng-device"]


def virtio_checks(g):
    out = run_cmd(g, "for d in /sys/bus/virtio/devices/*; do echo ${d##*/}=$(cat $d/device); done")
    print(f"[{g.name}] virtio devices (id 1=net 2=blk 3=console 4=rng): {' '.join(out.split())}", flush=True)
    out = run_cmd(g, "ls -l /dev/vda && cat /sys/block/vda/size")
    must("/dev/vda" in out and re.search(r"^8192$", out, re.M), f"/dev/vda missing or wrong size: {out!r}")
    if HAVE_EXT2:
        out = run_cmd(g, "mount -t ext2 /dev/vda /mnt && cat /mnt/hello.txt && echo written > /mnt/new.txt && umount /mnt && echo disk-ok")
        must("hello from an ext2 disk" in out and "disk-ok" in out, f"ext2 on virtio-blk failed: {out!r}")
    out = run_cmd(g, "ip link show eth0")
    must("eth0" in out and "link/ether" in out, f"virtio-net eth0 missing: {out!r}")
    out = run_cmd(g, "cat /sys/class/misc/hw_random/rng_current; head -c 16 /dev/hwrng | od -An -tx1 | wc -w")
    must("virtio_rng" in out and re.search(r"^\s*16$", out, re.M), f"virtio-rng failed: {out!r}")
    print(f"[{g.name}] virtio-blk (ext2), virtio-net, virtio-rng ok", flush=True)


def sc_microvm():
    # acpi=off: QEMU appends virtio_mmio.device=512@0x...:IRQ to the command line.
    g = Guest("microvm", microvm_devices(",acpi=off") + ["-append", f"console=ttyS0 panic=-1 {MICROVM_TSC}"])
    try:
        boot(g)
        out = run_cmd(g, "cat /proc/cmdline")
        must("virtio_mmio.device=" in out, f"expected virtio_mmio.device= on the command line: {out!r}")
        print(f"[{g.name}] cmdline: {out.strip()}", flush=True)
        virtio_checks(g)
        # Without ACPI there is no ACPI power-off; QEMU's microvm has no other
        # power-off device, so `poweroff -f` ends in the kernel's halt path.
        g.send("poweroff -f")
        g.expect(r"reboot: System halted|reboot: Power down", 30, what="kernel halt message")
        print(f"[{g.name}] poweroff -f reached the kernel (no ACPI: halted)", flush=True)
        return g
    finally:
        g.close()


def sc_acpi():
    # auto-kernel-cmdline=off: the devices are only described in the ACPI DSDT.
    g = Guest("acpi", microvm_devices(",auto-kernel-cmdline=off") + ["-append", f"console=ttyS0 panic=-1 {MICROVM_TSC}"])
    try:
        boot(g)
        out = run_cmd(g, "cat /proc/cmdline")
        must("virtio_mmio.device=" not in out, f"command line should not announce devices: {out!r}")
        out = run_cmd(g, "ls /sys/bus/acpi/devices/ | grep LNRO0005")
        must("LNRO0005" in out, f"no LNRO0005 ACPI devices: {out!r}")
        virtio_checks(g)
        poweroff(g)
        return g
    finally:
        g.close()


def sc_hvc():
    g = Guest("hvc", ["-M", "microvm", "-m", "128", "-display", "none", "-no-reboot",
                      "-serial", "none", "-monitor", "none",
                      "-kernel", KERNEL, "-initrd", INITRD,
                      "-device", "virtio-serial-device",
                      "-chardev", "stdio,id=con0,signal=off",
                      "-device", "virtconsole,chardev=con0",
                      "-append", f"console=hvc0 panic=-1 {MICROVM_TSC}"])
    try:
        boot(g)
        out = run_cmd(g, "tty; cat /sys/class/tty/console/active")
        must("hvc0" in out, f"console is not hvc0: {out!r}")
        # The last kernel messages may not make it through the virtio queue
        # before the machine is off; QEMU exiting with status 0 is the proof.
        poweroff(g, need_msg=False)
        return g
    finally:
        g.close()


SCENARIOS = {"pc": sc_pc, "p6": sc_p6, "microvm": sc_microvm, "acpi": sc_acpi, "hvc": sc_hvc}
names = sys.argv[1:] or list(SCENARIOS)
failed = []
passed = 0
for n in names:
    if n not in SCENARIOS:
        print(f"unknown scenario {n!r}; choose from {' '.join(SCENARIOS)}", file=sys.stderr)
        sys.exit(2)
    t0 = time.monotonic()
    try:
        SCENARIOS[n]()
        passed += 1
        print(f"[{n}] PASS ({time.monotonic() - t0:.1f}s)", flush=True)
    except Fail as e:
        failed.append(n)
        print(f"[{n}] FAIL: {e}", flush=True)
        try:
            with open(os.path.join(WORK, n + ".log"), "rb") as f:
                tail = f.read().decode("utf-8", "replace").replace("\r", "").splitlines()[-40:]
            print(f"[{n}] last console lines:\n    " + "\n    ".join(tail), flush=True)
        except OSError:
            pass
print(f"{passed} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
PYEOF
exit "$rc"

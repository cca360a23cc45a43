/**
 * The acceptance test of `typevisor run` as a user drives it: the real command in its own process,
 * the default guest booted to its shell, commands typed on its console, a file written to a
 * virtio-blk disk backed by a host file, and a clean poweroff. Everything is asserted, including
 * that the host's disk file holds the data after the guest's `sync`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'typevisor-acceptance-'));
let cli: string;

beforeAll(async () => {
  cli = join(dir, 'typevisor.mjs');
  const alias: Record<string, string> = {};
  for (const name of ['mmu', 'cpu-x86', 'devices', 'perf-model', 'vm-protocol', 'vm-driver', 'vm-manager']) alias[`@typevisor/${name}`] = join(root, 'packages', name, 'src/index.ts');
  alias['@typevisor/vm-driver/node'] = join(root, 'packages/vm-driver/src/node/index.ts');
  await build({ entryPoints: [join(root, 'apps/cli/src/bin.ts')], bundle: true, platform: 'node', format: 'esm', outfile: cli, alias, logLevel: 'silent', external: ['esbuild'] });
}, 120_000);

describe('typevisor run: the default guest, as a user drives it', () => {
  it('boots to a shell, runs uname and cpuinfo, writes a file to a virtio-blk disk the host can read, and powers off', async () => {
    const disk = join(dir, 'disk.img');
    writeFileSync(disk, new Uint8Array(8 * 1024 * 1024));
    const stamp = `typevisor-acceptance-${Date.now().toString(36)}`;
    const child = spawn(process.execPath, [cli, 'run', '--disk', disk, '--mem', '128M'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TYPEVISOR_GUEST_DIR: join(root, 'guest/images') },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    const waitFor = async (pattern: RegExp, from: number, ms: number): Promise<string> => {
      const end = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(out.slice(from));
        if (match) return match[1] ?? match[0];
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${pattern} within ${ms} ms; output ends with ${JSON.stringify(out.slice(-800))}; stderr ${JSON.stringify(err)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    let n = 0;
    /** Types a command and returns what it printed between two markers. */
    const run = async (command: string, ms = 120_000): Promise<string> => {
      const marker = `M${++n}x`;
      const from = out.length;
      child.stdin.write(`echo ${marker}a; ${command}; echo ${marker}b\r`);
      return waitFor(new RegExp(`\\n${marker}a\\r?\\n([\\s\\S]*?)${marker}b`), from, ms);
    };

    try {
      await waitFor(/typevisor guest ready[\s\S]*\/ # /, 0, 400_000);
      expect(await run('uname -a')).toMatch(/^Linux typevisor 6\.1\.\d+-typevisor #1 .* i686 GNU\/Linux/);
      const cpuinfo = await run('cat /proc/cpuinfo');
      expect(cpuinfo).toMatch(/vendor_id\s*: GenuineIntel/);
      expect(cpuinfo).toMatch(/cpu family\s*: 6/);
      expect(cpuinfo).toMatch(/flags\s*:.*\bcmov\b/);
      expect(await run('cat /sys/block/vda/size')).toMatch(/^16384\r?\n/);
      await run('mke2fs -q /dev/vda && mount -t ext2 /dev/vda /mnt && echo ok-mounted');
      // (kernel messages about the mount may be interleaved with the output on the console)
      expect(await run(`echo ${stamp} > /mnt/hello.txt && sync && cat /mnt/hello.txt`)).toMatch(new RegExp(`(^|\\n)${stamp}\\r?\\n`));
      expect(await run('umount /mnt && mount -t ext2 /dev/vda /mnt && cat /mnt/hello.txt && umount /mnt')).toMatch(new RegExp(`(^|\\n)${stamp}\\r?\\n`));
      child.stdin.write('poweroff -f\r');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(out).toContain('reboot: Power down');
    // The disk file on the host holds the file's contents after the guest synced.
    expect(readFileSync(disk).includes(Buffer.from(`${stamp}\n`))).toBe(true);
  }, 600_000);
});

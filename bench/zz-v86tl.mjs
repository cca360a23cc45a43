import { readFileSync } from 'node:fs';
const { V86 } = await import('v86');
const img = (p) => { const b = readFileSync(p); return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) }; };
const t0 = performance.now(); const c0 = process.cpuUsage();
const e = new V86({ wasm_path: new URL('./node_modules/v86/build/v86.wasm', import.meta.url).pathname, bios: img('/usr/share/seabios/bios.bin'), vga_bios: img('/usr/share/seabios/vgabios-stdvga.bin'),
  bzimage: img('/tmp/typevisor-debian/vmlinuz'), initrd: img('/tmp/typevisor-debian/initramfs.cpio.gz'), cmdline: 'console=ttyS0 panic=-1', memory_size: 256 * 1048576,
  autostart: true, disable_keyboard: true, disable_mouse: true, disable_speaker: true });
let line = ''; let all = ''; let pt = 0, pi = 0;
e.add_listener('serial0-output-byte', (b) => { const ch = String.fromCharCode(b); all += ch;
  if (ch === '\n') { const t = (performance.now() - t0) / 1000; const i = e.get_instruction_counter(); if (t - pt > 0.3) console.log(`+${(t - pt).toFixed(2)}s +${((i - pi) / 1e6).toFixed(0)}M @${t.toFixed(1)} ${line.slice(0, 80)}`); pt = t; pi = i; line = ''; } else line += ch;
  if (all.endsWith('/ # ')) { const t = (performance.now() - t0) / 1000; const u = process.cpuUsage(c0); console.log('prompt', t.toFixed(2), 'cpu', ((u.user + u.system) / 1e6).toFixed(2), 'instr', e.get_instruction_counter()); process.exit(0); } });

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const { V86 } = await import('v86');
const entry = fileURLToPath(import.meta.resolve('v86'));
const img = (p) => { const b = readFileSync(p); return { buffer: b.buffer.slice(b.byteOffset, b.byteOffset + b.length) }; };
const e = new V86({ wasm_path: fileURLToPath(new URL('./v86.wasm', `file://${entry}`)), bios: img('/usr/share/seabios/bios.bin'), vga_bios: img('/usr/share/seabios/vgabios-stdvga.bin'),
  bzimage: img('/tmp/typevisor-debian/vmlinuz'), initrd: img('/tmp/typevisor-debian/initramfs.cpio.gz'), cmdline: 'console=ttyS0 panic=-1', memory_size: 256 << 20, autostart: true, disable_keyboard: true, disable_mouse: true, disable_speaker: true });
const t0 = performance.now(); let line = ''; let pt = 0, pi = 0; let all = '';
e.add_listener('serial0-output-byte', (b) => { const ch = String.fromCharCode(b); all += ch;
  if (ch === '\n') { const t = (performance.now() - t0) / 1000, i = e.get_instruction_counter(); if (t - pt > Number(process.env.TL ?? 0.25)) console.log(`+${(t - pt).toFixed(2)}s +${((i - pi) / 1e6).toFixed(0)}M @${t.toFixed(1)} ${line.slice(0, 90)}`); pt = t; pi = i; line = ''; } else line += ch;
  if (all.endsWith('/ # ')) { console.log('prompt', ((performance.now() - t0) / 1000).toFixed(2), 'instr', e.get_instruction_counter()); e.destroy().then(() => process.exit(0)); } });

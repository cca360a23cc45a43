import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VmManager } from '@typevisor/vm-manager';
import { buildWorker } from './build-worker.js';

const images = fileURLToPath(new URL('../../../guest/images/', import.meta.url));
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'typevisor-e2e-'));
let manager: VmManager;

beforeAll(async () => {
  process.env.TYPEVISOR_GUEST_DIR = images;
  manager = new VmManager({ workerUrl: await buildWorker(fileURLToPath(new URL('../src/driver-worker.ts', import.meta.url))), hostMemoryMiB: 2048 });
}, 120_000);
afterAll(async () => {
  await manager?.shutdown();
  fs.rmSync(scratch, { recursive: true, force: true });
});

/** A console attached as the writer, with a way to wait for text and to run a command. */
function shell(id: string) {
  let text = '';
  const session = manager.attachConsole(id, (bytes) => (text += new TextDecoder().decode(bytes)), { write: true, replay: true });
  const waitFor = async (pattern: RegExp, from: number, ms: number): Promise<string> => {
    const end = Date.now() + ms;
    for (;;) {
      const match = pattern.exec(text.slice(from));
      if (match) return match[0];
      if (Date.now() > end) throw new Error(`${id}: no ${pattern} within ${ms} ms; VM ${JSON.stringify(manager.list().find((v) => v.id === id))}; console ends with ${JSON.stringify(text.slice(-600))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    session,
    waitFor,
    /** Types `command`, waits for its output between two markers, and returns that output. */
    async run(command: string, ms = 60_000): Promise<string> {
      const marker = `m${Math.random().toString(36).slice(2, 8)}`;
      const from = text.length;
      session.write(new TextEncoder().encode(`echo ${marker}-begin; ${command}; echo ${marker}-end\r`));
      const out = await waitFor(new RegExp(`\\n${marker}-begin\\r?\\n([\\s\\S]*?)${marker}-end`), from, ms);
      return out.replace(new RegExp(`^\\n${marker}-begin\\r?\\n`), '').replace(new RegExp(`${marker}-end$`), '');
    },
  };
}

describe('two Linux guests under one manager', () => {
  it('ping each other over a switch, pause (clock stops), snapshot, restore as a third VM, delete all', async () => {
    const base = { memoryMiB: 64, nets: [{ switch: 'lan' }] };
    await manager.create('a', { ...base, cmdline: 'console=ttyS0 panic=-1 typevisor.ip=10.0.0.1/24' });
    await manager.create('b', { ...base, cmdline: 'console=ttyS0 panic=-1 typevisor.ip=10.0.0.2/24' });
    const a = shell('a');
    const b = shell('b');
    await manager.start('a');
    await manager.start('b');
    await a.waitFor(/typevisor guest ready[\s\S]*\/ # /, 0, 240_000);
    await b.waitFor(/typevisor guest ready[\s\S]*\/ # /, 0, 240_000);

    expect(await a.run('ping -c 2 -W 10 10.0.0.2')).toMatch(/2 packets transmitted, 2 packets received/);

    const uptime = (output: string) => {
      const match = /(\d+\.\d+)/.exec(output);
      if (!match) throw new Error(`no uptime in ${JSON.stringify(output)}`);
      return Number(match[1]);
    };
    const before = uptime(await b.run('cut -d" " -f1 /proc/uptime'));
    await manager.pause('b');
    const pausedAt = Date.now();
    const file = path.join(scratch, 'b.snap');
    const written = await manager.snapshot('b', file);
    expect(written.bytes).toBeLessThan(64 * 1024 * 1024);
    while (Date.now() - pausedAt < 3000) await new Promise((r) => setTimeout(r, 100));

    expect((await manager.restore('c', file)).state).toBe('paused');
    await manager.resume('c');
    const c = shell('c');
    const after = uptime(await c.run('cut -d" " -f1 /proc/uptime'));
    // The guest clock stood still while paused: far less than the 3 s of host time went by.
    expect(after - before).toBeGreaterThanOrEqual(0);
    expect(after - before).toBeLessThan(2.5);
    expect(await c.run('echo restored shell answers')).toContain('restored shell answers');

    for (const id of ['a', 'b', 'c']) await manager.delete(id);
    expect(manager.list()).toEqual([]);
  }, 600_000);
});

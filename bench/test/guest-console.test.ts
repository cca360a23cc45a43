import { describe, expect, it } from 'vitest';
import { GuestConsole } from '@typevisor/cli/bench';

const bytes = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

function fakeClock() {
  let ms = 0;
  return { now: () => ms, advance: (by: number) => void (ms += by) };
}

describe('GuestConsole', () => {
  it('resolves a wait when the needle arrives split over chunks, with the time and byte count of its arrival', async () => {
    const clock = fakeClock();
    const console = new GuestConsole(() => undefined, clock.now);
    const prompt = console.expect('/ # ', 1000);
    clock.advance(5);
    console.receive(bytes('Linux booting\r\n/ '));
    clock.advance(7);
    console.receive(bytes('# ls'));
    const match = await prompt;
    expect(match.atMs).toBe(12);
    expect(match.before).toBe('Linux booting\r\n');
    expect(match.bytesAt).toBe(19);
    expect(console.bytesReceived).toBe(21);
    expect(console.firstByteAtMs).toBe(5);
    expect(console.pending).toBe('ls');
  });

  it('finds a needle that is already buffered, and consumes output up to it only', async () => {
    const console = new GuestConsole(() => undefined);
    console.receive(bytes('@@B1@@ out @@E1@@ rest'));
    await expect(console.expect('@@B1@@', 1000)).resolves.toMatchObject({ before: '' });
    await expect(console.expect('@@E1@@', 1000)).resolves.toMatchObject({ before: ' out ' });
    expect(console.pending).toBe(' rest');
  });

  it('types text as Latin-1 bytes', () => {
    const sent: number[] = [];
    new GuestConsole((b) => sent.push(...b)).send('ls\n');
    expect(sent).toEqual([0x6c, 0x73, 0x0a]);
  });

  it('fails a wait on timeout and on close, naming what it waited for', async () => {
    const console = new GuestConsole(() => undefined);
    console.receive(bytes('kernel panic'));
    await expect(console.expect('/ # ', 10, 'the shell prompt')).rejects.toThrow(/timed out .* the shell prompt.*kernel panic/);
    const waiting = console.expect('/ # ', 1000, 'the shell prompt');
    console.close('QEMU exited (status 1)');
    await expect(waiting).rejects.toThrow(/QEMU exited \(status 1\).*the shell prompt/);
    expect(() => console.send('x')).toThrow(/closed console/);
  });

  it('allows one wait at a time', () => {
    const console = new GuestConsole(() => undefined);
    void console.expect('a', 50).catch(() => undefined);
    expect(() => console.expect('b', 50)).toThrow(/already waiting/);
  });
});

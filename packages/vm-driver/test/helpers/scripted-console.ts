import type { CharBackend } from '@typevisor/devices';

/** A serial console that types `commands` one by one, each after the next shell prompt (`/ # `). */
export function scriptedConsole(commands: string[]): CharBackend & { log(): string } {
  let output = '';
  let receiver: ((bytes: Uint8Array) => void) | null = null;
  let prompts = 0;
  return {
    write(bytes) {
      output += String.fromCharCode(...bytes);
      const seen = output.split('/ # ').length - 1;
      if (seen > prompts) {
        prompts = seen;
        const next = commands.shift();
        if (next !== undefined) receiver?.(new TextEncoder().encode(`${next}\r`));
      }
    },
    setReceiver(r) {
      receiver = r;
    },
    log: () => output,
  };
}

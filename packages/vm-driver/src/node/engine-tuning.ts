import { setFlagsFromString } from 'node:v8';

/**
 * V8 flags for a process that runs guests. cpu-x86 turns hot guest blocks into JavaScript functions
 * while the guest runs; each new function runs in V8's interpreter and baseline tiers until V8's
 * tier-up check sends it to the optimising compiler, and that check comes after a fixed amount of
 * bytecode has run (the interrupt budget, 67,584 by default). Compiled blocks often leave early
 * through a side exit, so they use up that budget slowly: in a guest that makes many system calls
 * (`seq 1 20000 >/dev/null` in the default guest) half of them were still unoptimised 0.7 s after
 * they were created, and compiling made that command slower than not compiling at all. With 8,000
 * the same command takes 2.1 s instead of 2.9-3.1 s, Debian's boot 20.5-22.0 s instead of
 * 21.5-23.1 s, and CPU-bound loops (sha256, awk) are unchanged (cpu-x86 README, "Tier-up").
 */
export const GUEST_ENGINE_FLAGS: readonly string[] = ['--interrupt-budget=8000'];

let applied = false;

/**
 * Sets {@link GUEST_ENGINE_FLAGS} for this whole process (every worker thread included). Call it once
 * at startup, before guests run; the `typevisor` command does. The flags only change when V8
 * optimises functions, never what any code computes, but they apply to all JavaScript in the
 * process, so a library leaves the choice to its application. Returns the flags it set, or an empty
 * list when an earlier call already set them.
 */
export function tuneEngineForGuests(): readonly string[] {
  if (applied) return [];
  for (const flag of GUEST_ENGINE_FLAGS) setFlagsFromString(flag);
  applied = true;
  return GUEST_ENGINE_FLAGS;
}

import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { MAX_TIMERS_PER_STEP, VirtualClock } from '../src/index.js';

// V8's own test of whether two objects have the same hidden class (map), callable once natives syntax is on.
setFlagsFromString('--allow-natives-syntax');
const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b);') as (a: object, b: object) => boolean;

describe('VirtualClock (deterministic)', () => {
  function make(rate = 0.5): { clock: VirtualClock; counter: { n: number } } {
    const clock = new VirtualClock({ mode: 'deterministic', instructionsPerNs: rate });
    const counter = { n: 0 };
    clock.attachInstructionCounter(() => counter.n);
    return { clock, counter };
  }

  it('derives time and the TSC from the instruction count', () => {
    const { clock, counter } = make(0.5);
    counter.n = 1000;
    expect(clock.now()).toBe(2000);
    expect(clock.readTsc()).toBe(2000);
    expect(clock.instructionsUntil(3000)).toBe(500);
  });

  it('fires due timers in deadline then arming order, and not before', () => {
    const { clock, counter } = make(1);
    const fired: string[] = [];
    clock.setTimer(300, () => fired.push('c'));
    clock.setTimer(100, () => fired.push('a'));
    clock.setTimer(100, () => fired.push('b'));
    const cancelled = clock.setTimer(50, () => fired.push('x'));
    cancelled.cancel();
    expect(clock.nextDeadline()).toBe(100);
    counter.n = 99;
    expect(clock.fireDueTimers()).toBe(0);
    counter.n = 100;
    expect(clock.fireDueTimers()).toBe(2);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.nextDeadline()).toBe(300);
    expect(clock.pendingTimers).toBe(1);
  });

  it('skips idle time forward, never back, and keeps time across a counter reset', () => {
    const { clock, counter } = make(1);
    counter.n = 10;
    clock.skipTo(5000);
    expect(clock.now()).toBe(5000);
    clock.skipTo(10);
    expect(clock.now()).toBe(5000);
    clock.instructionCounterWillReset();
    counter.n = 0;
    expect(clock.now()).toBe(5000);
    counter.n = 7;
    expect(clock.now()).toBe(5007);
  });

  it('bounds the timers fired per step so a re-arming device cannot hang the host', () => {
    const { clock } = make(1);
    const rearm = (): void => void clock.setTimer(0, rearm);
    clock.setTimer(0, rearm);
    expect(clock.fireDueTimers()).toBe(MAX_TIMERS_PER_STEP);
    expect(clock.pendingTimers).toBe(1);
  });

  it('restores a saved time', () => {
    const { clock, counter } = make(1);
    counter.n = 1234;
    const saved = clock.saveState();
    const other = make(1);
    other.counter.n = 99;
    other.clock.restoreState(saved);
    expect(other.clock.now()).toBe(1234);
  });
});

describe('VirtualClock (realtime)', () => {
  function make(): { clock: VirtualClock; host: { ms: number }; counter: { n: number } } {
    const host = { ms: 1000 };
    const counter = { n: 0 };
    const clock = new VirtualClock({ mode: 'realtime', hostNowMs: () => host.ms, initialNsPerInstruction: 100 });
    clock.attachInstructionCounter(() => counter.n);
    return { clock, host, counter };
  }

  it('follows instructions at the guest speed while executing, so host stalls are invisible', () => {
    const { clock, host, counter } = make();
    clock.setRunning(true);
    counter.n = 1000;
    host.ms += 50; // a host stall between two guest instructions
    expect(clock.now()).toBe(100_000);
    clock.setGuestSpeed(50);
    expect(clock.now()).toBe(100_000); // continuous across a speed change
    counter.n = 2000;
    expect(clock.now()).toBe(150_000);
    expect(clock.instructionsUntil(200_000)).toBe(1000);
  });

  it('follows host time while the guest idles, and stands still while paused', () => {
    const { clock, host, counter } = make();
    clock.setRunning(true);
    counter.n = 10;
    clock.setIdle(true);
    host.ms += 3;
    expect(clock.now()).toBe(1000 + 3e6);
    clock.setIdle(false);
    counter.n = 20;
    expect(clock.now()).toBe(2000 + 3e6);
    clock.setRunning(false);
    host.ms += 50;
    counter.n = 30;
    expect(clock.now()).toBe(2000 + 3e6);
    expect(() => clock.skipTo(1e9)).toThrow(/deterministic/);
  });
});

describe('VirtualClock field layout', () => {
  it('stays the same when its counts outgrow 31-bit small integers (no new map, so no optimised code is thrown away)', () => {
    const fresh = new VirtualClock({ mode: 'deterministic', instructionsPerNs: 1 });
    const long = new VirtualClock({ mode: 'deterministic', instructionsPerNs: 1 });
    expect(sameMap(fresh, long)).toBe(true);
    let n = 2 ** 31 + 5;
    long.attachInstructionCounter(() => n);
    long.setRunning(true);
    n += 2 ** 32;
    long.instructionCounterWillReset();
    expect(long.now()).toBeGreaterThan(2 ** 32);
    expect(sameMap(fresh, long)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_TIMERS_PER_STEP, VirtualClock } from '../src/index.js';

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
  it('follows host time only while running', () => {
    let host = 1000;
    const clock = new VirtualClock({ mode: 'realtime', hostNowMs: () => host });
    expect(clock.now()).toBe(0);
    clock.setRunning(true);
    host += 2;
    expect(clock.now()).toBe(2e6);
    clock.setRunning(false);
    host += 50;
    expect(clock.now()).toBe(2e6);
    clock.setRunning(true);
    host += 1;
    expect(clock.now()).toBe(3e6);
    expect(() => clock.skipTo(1e9)).toThrow(/deterministic/);
  });
});

describe('VirtualClock (realtime) host stalls', () => {
  it('hides discounted host time without ever going backwards', () => {
    let host = 0;
    const clock = new VirtualClock({ mode: 'realtime', hostNowMs: () => host });
    clock.setRunning(true);
    host = 10;
    expect(clock.now()).toBe(10e6);
    clock.discountHostTime(5); // the guest already saw 10 ms: time holds still
    host = 13;
    expect(clock.now()).toBe(10e6);
    host = 16;
    expect(clock.now()).toBe(11e6);
    clock.discountHostTime(4); // not yet observed this time
    host = 20;
    expect(clock.now()).toBe(11e6);
    host = 21;
    expect(clock.now()).toBe(12e6);
  });
});

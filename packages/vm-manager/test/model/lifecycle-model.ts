/**
 * A model of the manager's VM lifecycle for model-based testing with fast-check: every command is
 * applied to the real manager and to a plain map of states, and the two must agree after each step,
 * including when two commands run concurrently.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { nextState, type LifecycleAction, type VmState } from '@typevisor/vm-protocol';
import type { VmManager } from '@typevisor/vm-manager';

/** The model: VM id -> state, and which VMs have a snapshot file. */
export interface LifecycleModel {
  states: Map<string, VmState>;
  snapshots: Set<string>;
}

/** The system under test. */
export interface LifecycleReal {
  manager: VmManager;
  dir: string;
}

type Outcome = { ok: true } | { ok: false; code: string };

const IDS = ['a', 'b', 'c'];
const snapshotPath = (real: LifecycleReal, id: string) => path.join(real.dir, `${id}.snap`);

/** One step: its effect on the model, and the same operation on the manager. */
interface Step {
  readonly label: string;
  model(m: LifecycleModel): Outcome;
  real(r: LifecycleReal): Promise<unknown>;
}

function lifecycle(id: string, action: LifecycleAction): Step {
  return {
    label: `${action}(${id})`,
    model(m) {
      const state = m.states.get(id);
      if (state === undefined) return { ok: false, code: 'not_found' };
      const to = nextState(state, action);
      if (to === null) return { ok: false, code: 'invalid_state' };
      m.states.set(id, to);
      return { ok: true };
    },
    real: (r) => r.manager[action](id),
  };
}

const steps: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(...IDS).map((id): Step => ({
    label: `create(${id})`,
    model(m) {
      if (m.states.has(id)) return { ok: false, code: 'already_exists' };
      m.states.set(id, 'created');
      return { ok: true };
    },
    real: (r) => r.manager.create(id, { memoryMiB: 16 }),
  })),
  fc.tuple(fc.constantFrom(...IDS), fc.constantFrom<LifecycleAction>('start', 'pause', 'resume', 'stop', 'reboot')).map(([id, action]) => lifecycle(id, action)),
  fc.constantFrom(...IDS).map((id): Step => ({
    label: `snapshot(${id})`,
    model(m) {
      const state = m.states.get(id);
      if (state === undefined) return { ok: false, code: 'not_found' };
      if (state !== 'paused') return { ok: false, code: 'invalid_state' };
      m.snapshots.add(id);
      return { ok: true };
    },
    real: (r) => r.manager.snapshot(id, snapshotPath(r, id)),
  })),
  fc.tuple(fc.constantFrom(...IDS), fc.constantFrom(...IDS)).map(([from, id]): Step => ({
    label: `restore(${from} -> ${id})`,
    model(m) {
      if (m.states.has(id)) return { ok: false, code: 'already_exists' };
      if (!m.snapshots.has(from)) return { ok: false, code: 'not_found' };
      m.states.set(id, 'paused');
      return { ok: true };
    },
    real: (r) => r.manager.restore(id, snapshotPath(r, from)),
  })),
  fc.constantFrom(...IDS).map((id): Step => ({
    label: `delete(${id})`,
    model(m) {
      if (!m.states.has(id)) return { ok: false, code: 'not_found' };
      m.states.delete(id);
      return { ok: true };
    },
    real: (r) => r.manager.delete(id),
  })),
);

async function outcomeOf(promise: Promise<unknown>): Promise<Outcome> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    return { ok: false, code: String((error as { code?: unknown }).code ?? (error as Error).message) };
  }
}

function assertSameStates(m: LifecycleModel, r: LifecycleReal, after: string): void {
  const real = Object.fromEntries(r.manager.list().map((vm) => [vm.id, vm.state]));
  const model = Object.fromEntries([...m.states].sort());
  const sorted = Object.fromEntries(Object.entries(real).sort());
  if (JSON.stringify(sorted) !== JSON.stringify(model)) {
    throw new Error(`after ${after}: manager has ${JSON.stringify(sorted)}, model has ${JSON.stringify(model)}`);
  }
}

class SequentialCommand implements fc.AsyncCommand<LifecycleModel, LifecycleReal> {
  constructor(readonly step: Step) {}
  check(): boolean {
    return true;
  }
  async run(m: LifecycleModel, r: LifecycleReal): Promise<void> {
    const expected = this.step.model(m);
    const actual = await outcomeOf(this.step.real(r));
    if (JSON.stringify(actual) !== JSON.stringify(expected)) {
      throw new Error(`${this.step.label}: manager answered ${JSON.stringify(actual)}, model expected ${JSON.stringify(expected)}`);
    }
    assertSameStates(m, r, this.step.label);
  }
  toString(): string {
    return this.step.label;
  }
}

/**
 * Two steps issued without waiting for each other. The manager must behave as if they ran one after
 * the other in some order (linearizability): the answers and the final states must match the model
 * applied in one of the two orders.
 */
class ConcurrentCommand implements fc.AsyncCommand<LifecycleModel, LifecycleReal> {
  constructor(readonly first: Step, readonly second: Step) {}
  check(): boolean {
    return true;
  }
  async run(m: LifecycleModel, r: LifecycleReal): Promise<void> {
    const [actualA, actualB] = await Promise.all([outcomeOf(this.first.real(r)), outcomeOf(this.second.real(r))]);
    const label = `${this.first.label} || ${this.second.label}`;
    const clone = (): LifecycleModel => ({ states: new Map(m.states), snapshots: new Set(m.snapshots) });
    const inOrder = clone();
    const a1 = this.first.model(inOrder);
    const b1 = this.second.model(inOrder);
    const reversed = clone();
    const b2 = this.second.model(reversed);
    const a2 = this.first.model(reversed);
    const actual = JSON.stringify([actualA, actualB]);
    const realStates = JSON.stringify(Object.fromEntries(r.manager.list().map((vm) => [vm.id, vm.state]).sort()));
    const statesOf = (model: LifecycleModel) => JSON.stringify(Object.fromEntries([...model.states].sort()));
    const candidates = [inOrder, reversed].filter((model, i) => actual === JSON.stringify(i === 0 ? [a1, b1] : [a2, b2]) && statesOf(model) === realStates);
    if (candidates.length === 0) {
      throw new Error(`${label}: manager answered ${actual} with states ${realStates}; no order of the two agrees (model: ${JSON.stringify([a1, b1])} or ${JSON.stringify([a2, b2])})`);
    }
    m.states = candidates[0].states;
    m.snapshots = candidates[0].snapshots;
  }
  toString(): string {
    return `${this.first.label} || ${this.second.label}`;
  }
}

/** Command sequences for fc.asyncModelRun. */
export const lifecycleCommands = fc.commands(
  [
    steps.map((s) => new SequentialCommand(s)),
    fc.tuple(steps, steps).map(([a, b]) => new ConcurrentCommand(a, b)),
  ],
  { maxCommands: 12 },
);

/**
 * Runs `runs` random sequences against `manager`, each starting from an empty manager, and checks
 * that no VM is left stuck: after each sequence every VM can still be deleted promptly.
 */
export async function checkLifecycleModel(manager: VmManager, dir: string, options: { seed: number; runs: number }): Promise<void> {
  await fc.assert(
    fc.asyncProperty(lifecycleCommands, async (commands) => {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { force: true });
      let failure: unknown = null;
      try {
        await fc.asyncModelRun(() => ({ model: { states: new Map<string, VmState>(), snapshots: new Set<string>() }, real: { manager, dir } }), commands);
      } catch (error) {
        failure = error;
      }
      const deadline = Date.now() + 2000;
      await Promise.all(manager.list().map((vm) => manager.delete(vm.id)));
      if (failure !== null) throw failure;
      if (manager.list().length > 0 || Date.now() > deadline) throw new Error('a VM got stuck: it could not be deleted within 2 s');
    }),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
}

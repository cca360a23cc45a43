/** The lifecycle of one VM as the manager and its clients see it. */

/** Every state a VM can be in. */
export const VM_STATES = ['created', 'running', 'paused', 'stopped', 'failed'] as const;

/** A VM's lifecycle state. */
export type VmState = (typeof VM_STATES)[number];

/**
 * Which states each lifecycle action moves a VM to, from which states. An action not listed for a
 * state is illegal there and answers `invalid_state`.
 */
export const TRANSITIONS = {
  start: { from: ['created'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  stop: { from: ['created', 'running', 'paused'], to: 'stopped' },
  reboot: { from: ['running', 'paused'], to: 'running' },
} as const satisfies Record<string, { from: readonly VmState[]; to: VmState }>;

/** A lifecycle action with a state transition. */
export type LifecycleAction = keyof typeof TRANSITIONS;

/** The state after `action`, or `null` when the action is illegal in `state`. */
export function nextState(state: VmState, action: LifecycleAction): VmState | null {
  const rule = TRANSITIONS[action];
  return (rule.from as readonly VmState[]).includes(state) ? rule.to : null;
}

import { DeviceStateError } from '../types.js';
import type { DeviceState } from '../types.js';

/**
 * Checked readers for restoring a saved {@link DeviceState}: a snapshot comes from a file and is
 * validated field by field, so a corrupt one is refused with a message naming the field instead of
 * leaving a device half restored.
 */
export class StateReader {
  private constructor(private readonly data: Readonly<Record<string, unknown>>, private readonly kind: string) {}

  /** Checks kind and version and returns a reader of the state's data. */
  static open(state: DeviceState, kind: string, version: number): StateReader {
    if (state.kind !== kind) {
      throw new DeviceStateError(`cannot restore a "${state.kind}" state into a ${kind} device`);
    }
    if (state.version !== version) {
      throw new DeviceStateError(`${kind} state version ${state.version} is not supported (expected ${version})`);
    }
    if (typeof state.data !== 'object' || state.data === null) {
      throw new DeviceStateError(`${kind} state has no data object`);
    }
    return new StateReader(state.data, kind);
  }

  /** A reader of the nested object `name`. */
  nested(name: string): StateReader {
    const value = this.data[name];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new DeviceStateError(`${this.kind} state field "${name}" must be an object`);
    }
    return new StateReader(value as Readonly<Record<string, unknown>>, `${this.kind}.${name}`);
  }

  /** Readers of the array of objects `name`, which must have `length` elements. */
  list(name: string, length: number): StateReader[] {
    const value = this.data[name];
    if (!Array.isArray(value) || value.length !== length || value.some((v) => typeof v !== 'object' || v === null)) {
      throw new DeviceStateError(`${this.kind} state field "${name}" must be an array of ${length} objects`);
    }
    return value.map((v: unknown, i) => new StateReader(v as Readonly<Record<string, unknown>>, `${this.kind}.${name}[${i}]`));
  }

  /** An integer in [min, max]. */
  int(name: string, min: number, max: number): number {
    const value = this.data[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new DeviceStateError(`${this.kind} state field "${name}" must be an integer in [${min}, ${max}]`);
    }
    return value;
  }

  /** A finite number (virtual times). */
  num(name: string): number {
    const value = this.data[name];
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new DeviceStateError(`${this.kind} state field "${name}" must be a finite number`);
    }
    return value;
  }

  bool(name: string): boolean {
    const value = this.data[name];
    if (typeof value !== 'boolean') throw new DeviceStateError(`${this.kind} state field "${name}" must be a boolean`);
    return value;
  }

  /** An array of integers in [min, max], of exactly `length` elements unless `length` is -1. */
  ints(name: string, length: number, min: number, max: number): number[] {
    const value = this.data[name];
    if (!Array.isArray(value) || (length >= 0 && value.length !== length)) {
      throw new DeviceStateError(`${this.kind} state field "${name}" must be an array of ${length < 0 ? 'any number of' : length} integers`);
    }
    for (const item of value) {
      if (typeof item !== 'number' || !Number.isInteger(item) || item < min || item > max) {
        throw new DeviceStateError(`${this.kind} state field "${name}" holds a value outside [${min}, ${max}]`);
      }
    }
    return value as number[];
  }

}

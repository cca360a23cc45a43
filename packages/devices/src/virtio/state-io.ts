import { DeviceStateError, type DeviceState } from '../types.js';

/** Throws unless `state` is of `kind` and `version`; returns its data. */
export function expectState(state: DeviceState, kind: string, version: number): Readonly<Record<string, unknown>> {
  if (state === null || typeof state !== 'object') throw new DeviceStateError(`expected a ${kind} state object`);
  if (state.kind !== kind) throw new DeviceStateError(`cannot restore a "${String(state.kind)}" state into a ${kind} device`);
  if (state.version !== version) {
    throw new DeviceStateError(`${kind} state version ${String(state.version)} is not supported (expected ${version})`);
  }
  if (state.data === null || typeof state.data !== 'object') throw new DeviceStateError(`${kind} state has no data`);
  return state.data;
}

/** Reads a finite number field or throws a {@link DeviceStateError} naming it. */
export function numberField(data: Readonly<Record<string, unknown>>, key: string, kind: string): number {
  const value = data[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DeviceStateError(`${kind} state field "${key}" must be a number`);
  return value;
}

/** Reads a boolean field or throws a {@link DeviceStateError} naming it. */
export function booleanField(data: Readonly<Record<string, unknown>>, key: string, kind: string): boolean {
  const value = data[key];
  if (typeof value !== 'boolean') throw new DeviceStateError(`${kind} state field "${key}" must be a boolean`);
  return value;
}

/** Reads a string field or throws a {@link DeviceStateError} naming it. */
export function stringField(data: Readonly<Record<string, unknown>>, key: string, kind: string): string {
  const value = data[key];
  if (typeof value !== 'string') throw new DeviceStateError(`${kind} state field "${key}" must be a string`);
  return value;
}

/** Reads an object field or throws a {@link DeviceStateError} naming it. */
export function objectField(data: Readonly<Record<string, unknown>>, key: string, kind: string): Readonly<Record<string, unknown>> {
  const value = data[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DeviceStateError(`${kind} state field "${key}" must be an object`);
  }
  return value as Readonly<Record<string, unknown>>;
}

/** Reads an array field or throws a {@link DeviceStateError} naming it. */
export function arrayField(data: Readonly<Record<string, unknown>>, key: string, kind: string): readonly unknown[] {
  const value = data[key];
  if (!Array.isArray(value)) throw new DeviceStateError(`${kind} state field "${key}" must be an array`);
  return value;
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Encodes bytes as base64 (no Node `Buffer`, no DOM `btoa`: runs everywhere). */
export function bytesToBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i];
    const b = i + 1 < bytes.length ? bytes[i + 1] : 0;
    const c = i + 2 < bytes.length ? bytes[i + 2] : 0;
    const n = (a << 16) | (b << 8) | c;
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63];
    out += i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? alphabet[n & 63] : '=';
  }
  return out;
}

/** Decodes base64 produced by {@link bytesToBase64}; throws {@link DeviceStateError} on bad input. */
export function base64ToBytes(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new DeviceStateError('base64 data length is not a multiple of 4');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const ch = text[i + j];
      const v = ch === '=' ? 0 : alphabet.indexOf(ch);
      if (v < 0) throw new DeviceStateError('invalid base64 character in device state');
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

/**
 * Validation at the trust boundary: everything that arrives from a peer (a worker, a socket, an HTTP
 * body) goes through here before anyone looks at it. Errors are `VmError`s that name the field.
 */
import type * as v from 'valibot';
import { VmError } from './errors.js';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from './limits.js';
import type { Message } from './messages.js';
import { MessageSchema } from './schemas.js';

/** The Standard Schema v1 interface, so any conforming validator can be used with {@link validateWith}. */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** A Standard Schema validation result. */
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string; readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }> };

function describeIssue(issue: { message: string; path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined }): string {
  const path = (issue.path ?? []).map((p) => String(typeof p === 'object' && p !== null ? p.key : p)).join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}

/**
 * Validates `value` with any Standard Schema validator (ours, or one the user brings). Throws
 * `VmError('invalid_request')` listing each problem with its path.
 */
export function validateWith<T>(schema: StandardSchemaV1<unknown, T>, value: unknown): T {
  const result = schema['~standard'].validate(value);
  if (result instanceof Promise) throw new VmError('internal', 'validateWith needs a synchronous validator');
  if (result.issues) throw new VmError('invalid_request', `invalid request: ${result.issues.map(describeIssue).join('; ')}`);
  return result.value;
}

/** Keys that must never reach an object merge: rejected anywhere in a message. */
const POISON_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function rejectPoisonKeys(value: unknown, depth = 0): void {
  if (depth > 32) throw new VmError('invalid_request', 'invalid request: nested too deeply (more than 32 levels)');
  if (value === null || typeof value !== 'object') return;
  for (const key of Object.keys(value)) {
    if (POISON_KEYS.has(key)) throw new VmError('invalid_request', `invalid request: the key "${key}" is not allowed`);
    rejectPoisonKeys((value as Record<string, unknown>)[key], depth + 1);
  }
}

/**
 * Validates an already-decoded message. Checks the protocol version first so an old or new peer gets
 * `unsupported_version` rather than a list of field errors.
 */
export function parseMessage(value: unknown): Message {
  rejectPoisonKeys(value);
  if (value !== null && typeof value === 'object' && 'v' in value && (value as { v: unknown }).v !== PROTOCOL_VERSION) {
    throw new VmError('unsupported_version', `protocol version ${String((value as { v: unknown }).v)} is not supported; this peer speaks version ${PROTOCOL_VERSION}`);
  }
  return validateWith(MessageSchema, value);
}

/** Parses JSON text from a peer into a validated message, enforcing the size limit first. */
export function decodeMessage(text: string): Message {
  if (text.length > MAX_MESSAGE_BYTES) {
    throw new VmError('payload_too_large', `message of ${text.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VmError('invalid_request', `malformed JSON: ${(error as Error).message}`);
  }
  return parseMessage(value);
}

/** Encodes a message as JSON text, refusing to produce one the peer would reject for size. */
export function encodeMessage(message: Message): string {
  const text = JSON.stringify(message);
  if (text.length > MAX_MESSAGE_BYTES) throw new VmError('payload_too_large', `message of ${text.length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
  return text;
}

/** Validates a value against one of our schemas (e.g. a `VmConfig` from an HTTP body). */
export function parseWith<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  rejectPoisonKeys(value);
  // valibot's object schemas accept arrays (they are objects with no keys); a body that should be an
  // object never is an array.
  if (Array.isArray(value) && /object$/.test(schema.type)) throw new VmError('invalid_request', 'invalid request: expected a JSON object, got an array');
  return validateWith(schema as unknown as StandardSchemaV1<unknown, v.InferOutput<S>>, value);
}

/**
 * Protocol messages over a byte stream (a Unix socket, TCP, stdio) as JSON-RPC 2.0, framed with
 * `Content-Length` headers as the Language Server Protocol does, so frames survive any chunking.
 *
 * Mapping: a command is a request (`method` = `vm.<command name>`, `params` = `{ vm, ...args }`);
 * a reply is a response with `result`; an error is a response with `error` (`code` -32000 for our
 * errors, `data.code` the protocol code); an event is a notification (`method` = `event.<name>`).
 */
import { ERROR_CODES, VmError, isErrorCode } from './errors.js';
import { MAX_MESSAGE_BYTES, PROTOCOL_VERSION } from './limits.js';
import type { Message } from './messages.js';
import { BaseTransport } from './transport.js';

/** The byte-stream operations the transport needs. */
export interface ByteStreamLike {
  write(bytes: Uint8Array): void;
  onData(listener: (bytes: Uint8Array) => void): void;
  onEnd(listener: () => void): void;
  end(): void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const HEADER_END = [13, 10, 13, 10];
const MAX_HEADER_BYTES = 1024;

/** Converts a protocol message into a JSON-RPC 2.0 object. */
export function toJsonRpc(message: Message): Record<string, unknown> {
  switch (message.type) {
    case 'command': {
      const { name, ...args } = message.command;
      return { jsonrpc: '2.0', id: message.id, method: `vm.${name}`, params: { vm: message.vm, ...args } };
    }
    case 'reply':
      return { jsonrpc: '2.0', id: message.id, result: message.result ?? null };
    case 'error':
      return { jsonrpc: '2.0', id: message.id, error: { code: -32000, message: message.error.message, data: { code: message.error.code } } };
    case 'event': {
      const { name, ...args } = message.event;
      return { jsonrpc: '2.0', method: `event.${name}`, params: { vm: message.vm, ...args } };
    }
  }
}

/** Converts a JSON-RPC 2.0 object back into an (unvalidated) protocol message. */
export function fromJsonRpc(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || (value as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    throw new VmError('invalid_request', 'not a JSON-RPC 2.0 message (missing "jsonrpc": "2.0")');
  }
  const rpc = value as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
  if (typeof rpc.method === 'string') {
    const params = (rpc.params ?? {}) as Record<string, unknown>;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) throw new VmError('invalid_request', 'params must be an object');
    const { vm, ...args } = params;
    if (rpc.method.startsWith('vm.')) return { v: PROTOCOL_VERSION, type: 'command', id: rpc.id, vm, command: { name: rpc.method.slice(3), ...args } };
    if (rpc.method.startsWith('event.')) return { v: PROTOCOL_VERSION, type: 'event', vm, event: { name: rpc.method.slice(6), ...args } };
    throw new VmError('invalid_request', `unknown method ${JSON.stringify(rpc.method)}; methods are vm.<command> and event.<name>`);
  }
  if ('error' in rpc) {
    const error = rpc.error as { message?: unknown; data?: { code?: unknown } } | null;
    const code = error?.data?.code;
    return { v: PROTOCOL_VERSION, type: 'error', id: rpc.id ?? null, error: { code: isErrorCode(code) ? code : 'internal', message: String(error?.message ?? 'unknown error') } };
  }
  const reply: Record<string, unknown> = { v: PROTOCOL_VERSION, type: 'reply', id: rpc.id };
  if (rpc.result !== null && rpc.result !== undefined) reply.result = rpc.result;
  return reply;
}

/** Splits a byte stream into Content-Length framed payloads, with bounded buffering. */
export class FrameDecoder {
  #buffer = new Uint8Array(0);

  /** Feeds bytes; returns complete payloads. Throws `VmError` on a malformed or oversized frame. */
  push(chunk: Uint8Array): string[] {
    const joined = new Uint8Array(this.#buffer.length + chunk.length);
    joined.set(this.#buffer);
    joined.set(chunk, this.#buffer.length);
    this.#buffer = joined;
    const frames: string[] = [];
    for (;;) {
      const headerEnd = indexOf(this.#buffer, HEADER_END);
      if (headerEnd < 0) {
        if (this.#buffer.length > MAX_HEADER_BYTES) throw new VmError('invalid_request', 'frame header too long or missing Content-Length');
        return frames;
      }
      const header = decoder.decode(this.#buffer.subarray(0, headerEnd));
      const match = /^content-length:\s*(\d+)\s*$/im.exec(header);
      if (!match) throw new VmError('invalid_request', 'frame header has no Content-Length');
      const length = Number(match[1]);
      if (length > MAX_MESSAGE_BYTES) throw new VmError('payload_too_large', `frame of ${length} bytes exceeds the ${MAX_MESSAGE_BYTES}-byte limit`);
      const start = headerEnd + HEADER_END.length;
      if (this.#buffer.length < start + length) return frames;
      frames.push(decoder.decode(this.#buffer.subarray(start, start + length)));
      this.#buffer = this.#buffer.slice(start + length);
    }
  }
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Frames one payload. */
export function encodeFrame(payload: string): Uint8Array {
  const body = encoder.encode(payload);
  const header = encoder.encode(`Content-Length: ${body.length}\r\n\r\n`);
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

/**
 * A transport over a byte stream. A framing error is unrecoverable (the stream position is lost):
 * it is reported and the connection is closed.
 */
export class JsonRpcStreamTransport extends BaseTransport {
  readonly #stream: ByteStreamLike;
  readonly #frames = new FrameDecoder();

  constructor(stream: ByteStreamLike) {
    super();
    this.#stream = stream;
    stream.onData((bytes) => {
      let payloads: string[];
      try {
        payloads = this.#frames.push(bytes);
      } catch (error) {
        this.emitError(VmError.from(error, 'invalid_request'));
        this.close();
        return;
      }
      for (const payload of payloads) {
        let translated: string;
        try {
          translated = JSON.stringify(fromJsonRpc(JSON.parse(payload)));
        } catch (error) {
          this.emitError(error instanceof SyntaxError ? new VmError('invalid_request', `malformed JSON: ${error.message}`) : VmError.from(error, 'invalid_request'));
          continue;
        }
        this.receiveText(translated);
      }
    });
    stream.onEnd(() => this.peerClosed());
  }

  protected sendEncoded(text: string): void {
    this.#stream.write(encodeFrame(JSON.stringify(toJsonRpc(JSON.parse(text) as Message))));
  }

  protected closeChannel(): void {
    this.#stream.end();
  }
}

/** The JSON-RPC error codes this mapping uses, for documentation and tests. */
export const JSON_RPC_ERROR = { server: -32000, codes: ERROR_CODES } as const;

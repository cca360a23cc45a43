/**
 * A transport carries protocol messages between two peers. Every transport validates what it
 * receives; an invalid inbound message is reported to `onError` listeners (and, when it carried a
 * request id, answered by the endpoint) — it never reaches message listeners.
 */
import { VmError } from './errors.js';
import type { Message } from './messages.js';
import { decodeMessage, encodeMessage } from './validate.js';

/** One side of a connection. */
export interface Transport {
  /** Sends a message. Throws `VmError('transport_closed')` after close. */
  send(message: Message): void;
  /** Subscribes to valid inbound messages; returns the unsubscribe function. */
  onMessage(listener: (message: Message) => void): () => void;
  /** Subscribes to inbound data that failed validation or framing. */
  onError(listener: (error: VmError) => void): () => void;
  /** Subscribes to the end of the connection (either side closed it). */
  onClose(listener: () => void): () => void;
  /** Closes the connection; idempotent. */
  close(): void;
  /** True once closed. */
  readonly closed: boolean;
}

/** Listener bookkeeping shared by every transport. */
export abstract class BaseTransport implements Transport {
  readonly #messageListeners = new Set<(message: Message) => void>();
  readonly #errorListeners = new Set<(error: VmError) => void>();
  readonly #closeListeners = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  send(message: Message): void {
    if (this.#closed) throw new VmError('transport_closed', 'cannot send: the connection is closed');
    this.sendEncoded(encodeMessage(message));
  }

  /** Writes one encoded message to the underlying channel. */
  protected abstract sendEncoded(text: string): void;

  /** Releases the underlying channel. */
  protected abstract closeChannel(): void;

  /** Hands received text to the listeners after validation. */
  protected receiveText(text: string): void {
    if (this.#closed) return;
    let message: Message;
    try {
      message = decodeMessage(text);
    } catch (error) {
      this.emitError(VmError.from(error, 'invalid_request'));
      return;
    }
    for (const listener of [...this.#messageListeners]) listener(message);
  }

  protected emitError(error: VmError): void {
    for (const listener of [...this.#errorListeners]) listener(error);
  }

  onMessage(listener: (message: Message) => void): () => void {
    this.#messageListeners.add(listener);
    return () => this.#messageListeners.delete(listener);
  }

  onError(listener: (error: VmError) => void): () => void {
    this.#errorListeners.add(listener);
    return () => this.#errorListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeChannel();
    for (const listener of [...this.#closeListeners]) listener();
    this.#messageListeners.clear();
    this.#errorListeners.clear();
    this.#closeListeners.clear();
  }

  /** Marks the connection closed because the other side went away. */
  protected peerClosed(): void {
    this.close();
  }
}

/**
 * Two connected transports in one process. Messages cross as encoded JSON, exactly as they would
 * between workers, and are delivered asynchronously (a microtask later).
 */
export class InProcessTransport extends BaseTransport {
  #peer: InProcessTransport | null = null;

  /** Creates a connected pair. */
  static pair(): [InProcessTransport, InProcessTransport] {
    const a = new InProcessTransport();
    const b = new InProcessTransport();
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  protected sendEncoded(text: string): void {
    const peer = this.#peer;
    queueMicrotask(() => peer?.receiveText(text));
  }

  protected closeChannel(): void {
    const peer = this.#peer;
    this.#peer = null;
    if (peer && !peer.closed) queueMicrotask(() => peer.peerClosed());
  }
}

/**
 * The part of a `MessagePort` the transport uses: Node's `worker_threads` ports, `Worker` objects
 * and browser `MessagePort`s / `Worker`s all fit.
 */
export interface MessagePortLike {
  postMessage(value: unknown): void;
  // The event parameter is untyped because DOM and Node declare different event types for it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  addEventListener?(type: 'message', listener: (event: any) => void): void;
  on?(type: 'message', listener: (data: unknown) => void): unknown;
  start?(): void;
  close?(): void;
}

/** A transport over a worker `MessagePort` (Node `worker_threads` or Web Workers). */
export class MessagePortTransport extends BaseTransport {
  readonly #port: MessagePortLike;

  constructor(port: MessagePortLike) {
    super();
    this.#port = port;
    const deliver = (data: unknown) => {
      if (typeof data !== 'string') {
        this.emitError(new VmError('invalid_request', 'expected an encoded protocol message (a JSON string)'));
        return;
      }
      this.receiveText(data);
    };
    if (typeof port.on === 'function') port.on('message', deliver);
    else if (typeof port.addEventListener === 'function') {
      port.addEventListener('message', (event: { data: unknown }) => deliver(event.data));
      port.start?.();
    } else throw new VmError('internal', 'MessagePortTransport needs a port with on() or addEventListener()');
  }

  /** Call when the port's owner learns the other side is gone (e.g. a worker exited). */
  disconnect(): void {
    this.peerClosed();
  }

  protected sendEncoded(text: string): void {
    this.#port.postMessage(text);
  }

  protected closeChannel(): void {
    this.#port.close?.();
  }
}

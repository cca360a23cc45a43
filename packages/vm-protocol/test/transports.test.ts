import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  InProcessTransport, JsonRpcStreamTransport, MessagePortTransport, PROTOCOL_VERSION, ProtocolClient, VmError,
  encodeFrame, sendEvent, serveCommands, type ByteStreamLike, type Command, type Transport, type VmState,
} from '@typevisor/vm-protocol';

function fakeVms(states: Record<string, VmState>) {
  return {
    stateOf: (vm: string) => states[vm] ?? null,
    handle: (vm: string, command: Command) => {
      if (command.name === 'start') states[vm] = 'running';
      if (command.name === 'create') states[vm] = 'created';
      if (command.name === 'inspect') throw new Error('disk on fire');
      return undefined;
    },
  };
}

async function exerciseServer(client: Transport, server: Transport) {
  const states: Record<string, VmState> = {};
  serveCommands(server, fakeVms(states));
  const api = new ProtocolClient(client);
  await api.request('a', { name: 'create', config: { memoryMiB: 64 } });
  expect(states.a).toBe('created');
  await expect(api.request('a', { name: 'create', config: { memoryMiB: 64 } })).rejects.toMatchObject({ code: 'already_exists' });
  await expect(api.request('a', { name: 'pause' })).rejects.toMatchObject({ code: 'invalid_state', message: 'pause is not allowed while VM a is created' });
  await expect(api.request('b', { name: 'start' })).rejects.toMatchObject({ code: 'not_found' });
  await api.request('a', { name: 'start' });
  expect(states.a).toBe('running');
  await expect(api.request('a', { name: 'inspect' })).rejects.toMatchObject({ code: 'internal', message: 'disk on fire' });
  const events: string[] = [];
  api.onEvent((vm, event) => events.push(`${vm}:${event.name}`));
  sendEvent(server, 'a', { name: 'stateChanged', from: 'created', to: 'running' });
  await new Promise((r) => setTimeout(r, 20));
  expect(events).toEqual(['a:stateChanged']);
}

class FakeStream implements ByteStreamLike {
  peer: FakeStream | null = null;
  readonly #data: ((b: Uint8Array) => void)[] = [];
  readonly #ends: (() => void)[] = [];
  write(bytes: Uint8Array): void {
    const peer = this.peer;
    setTimeout(() => peer?.feed(bytes), 0);
  }
  onData(listener: (b: Uint8Array) => void): void {
    this.#data.push(listener);
  }
  onEnd(listener: () => void): void {
    this.#ends.push(listener);
  }
  end(): void {
    const peer = this.peer;
    this.peer = null;
    setTimeout(() => peer?.finish(), 0);
  }
  finish(): void {
    this.#ends.forEach((l) => l());
  }
  feed(bytes: Uint8Array): void {
    this.#data.forEach((l) => l(bytes));
  }
}

function streamPair(): [FakeStream, FakeStream] {
  const a = new FakeStream();
  const b = new FakeStream();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

describe('transports', () => {
  it('in-process: commands, replies, typed errors and events', async () => {
    const [client, server] = InProcessTransport.pair();
    await exerciseServer(client, server);
  });

  it('worker MessagePort: the same conversation', async () => {
    const channel = new MessageChannel();
    const client = new MessagePortTransport(channel.port1);
    const server = new MessagePortTransport(channel.port2);
    try {
      await exerciseServer(client, server);
    } finally {
      client.close();
      server.close();
    }
  });

  it('JSON-RPC over a byte stream: the same conversation, split into one-byte chunks', async () => {
    const [a, b] = streamPair();
    const slowWrite = a.write.bind(a);
    a.write = (bytes) => bytes.forEach((byte) => slowWrite(Uint8Array.of(byte)));
    await exerciseServer(new JsonRpcStreamTransport(a), new JsonRpcStreamTransport(b));
  });

  it('JSON-RPC: malformed JSON is answered with a typed error and the stream stays usable', async () => {
    const [a, b] = streamPair();
    const server = new JsonRpcStreamTransport(b);
    serveCommands(server, fakeVms({}));
    const replies: unknown[] = [];
    const { FrameDecoder } = await import('@typevisor/vm-protocol');
    const frames = new FrameDecoder();
    a.onData((bytes) => frames.push(bytes).forEach((f) => replies.push(JSON.parse(f))));
    a.write(encodeFrame('{"jsonrpc":"2.0",'));
    a.write(encodeFrame(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'vm.create', params: { vm: 'x', config: { memoryMiB: 64 } } })));
    await new Promise((r) => setTimeout(r, 30));
    expect(replies).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32000, message: expect.stringMatching(/malformed JSON/), data: { code: 'invalid_request' } } },
      { jsonrpc: '2.0', id: 9, result: null },
    ]);
  });

  it('JSON-RPC: an oversized frame is refused and closes the connection', async () => {
    const [, b] = streamPair();
    const server = new JsonRpcStreamTransport(b);
    const errors: VmError[] = [];
    server.onError((e) => errors.push(e));
    b.feed(new TextEncoder().encode('Content-Length: 999999999\r\n\r\n'));
    expect(errors[0]?.code).toBe('payload_too_large');
    expect(server.closed).toBe(true);
  });

  it('a pending request fails with transport_closed when the connection ends', async () => {
    const [client, server] = InProcessTransport.pair();
    const api = new ProtocolClient(client);
    const pending = api.request('a', { name: 'start' });
    server.close();
    await expect(pending).rejects.toMatchObject({ code: 'transport_closed' });
    expect(() => client.send({ v: PROTOCOL_VERSION, type: 'reply', id: 1 })).toThrow(VmError);
  });

  it('a request times out with a typed error', async () => {
    const [client] = InProcessTransport.pair();
    await expect(new ProtocolClient(client).request('a', { name: 'start' }, { timeoutMs: 10 })).rejects.toMatchObject({ code: 'timeout' });
  });
});

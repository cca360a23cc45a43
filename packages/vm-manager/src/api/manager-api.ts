/**
 * The multi-VM HTTP+JSON API that `typevisor serve` exposes (over a Unix socket or TCP) and
 * `typevisor ctl` calls. Every failure is a typed JSON error with a 4xx status for the caller's
 * mistakes; a failed request changes nothing.
 *
 *   GET    /v1/vms                       list
 *   POST   /v1/vms                       create   { id, config }
 *   GET    /v1/vms/{id}                  inspect
 *   DELETE /v1/vms/{id}                  delete
 *   POST   /v1/vms/{id}/actions          { action: start | pause | resume | stop | reboot | sendCtrlAltDel }
 *   POST   /v1/vms/{id}/snapshot         { path }
 *   POST   /v1/vms/restore               { id, path }
 *   GET    /v1/vms/{id}/console          Upgrade: typevisor-console  (raw bytes both ways; ?write=1 to type)
 *   GET    /v1/events                    newline-delimited JSON events
 *   GET    /openapi.json                 the OpenAPI document
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { VmError, parseWith } from '@typevisor/vm-protocol';
import { ActionRequestSchema, CreateVmRequestSchema, RestoreRequestSchema, SnapshotRequestSchema } from './requests.js';
import type { VmManager } from '../manager.js';
import { readJsonBody, sendError, sendJson } from './http-io.js';
import { managerOpenApi } from './openapi.js';

/** The protocol name in the `Upgrade` header of a console connection. */
export const CONSOLE_UPGRADE = 'typevisor-console';

async function route(manager: VmManager, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://typevisor');
  const parts = url.pathname.split('/').filter(Boolean);
  const method = request.method ?? 'GET';
  if (method === 'GET' && url.pathname === '/openapi.json') return sendJson(response, 200, managerOpenApi());
  if (parts[0] !== 'v1') throw new VmError('not_found', `no such endpoint: ${method} ${url.pathname}; see GET /openapi.json`);
  if (parts[1] === 'events' && parts.length === 2 && method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const off = manager.onEvent((vm, event) => {
      if (event.name !== 'console') response.write(`${JSON.stringify({ vm, event })}\n`);
    });
    request.on('close', off);
    return;
  }
  if (parts[1] !== 'vms') throw new VmError('not_found', `no such endpoint: ${method} ${url.pathname}; see GET /openapi.json`);
  if (parts.length === 2) {
    if (method === 'GET') return sendJson(response, 200, manager.list());
    if (method === 'POST') {
      const body = parseWith(CreateVmRequestSchema, await readJsonBody(request));
      return sendJson(response, 201, await manager.create(body.id, body.config));
    }
  }
  if (parts.length === 3 && parts[2] === 'restore' && method === 'POST') {
    const body = parseWith(RestoreRequestSchema, await readJsonBody(request));
    return sendJson(response, 201, await manager.restore(body.id, body.path));
  }
  const id = parts[2];
  if (parts.length === 3) {
    if (method === 'GET') return sendJson(response, 200, manager.inspect(id));
    if (method === 'DELETE') {
      await manager.delete(id);
      return sendJson(response, 204);
    }
  }
  if (parts.length === 4 && method === 'POST') {
    if (parts[3] === 'actions') {
      const { action } = parseWith(ActionRequestSchema, await readJsonBody(request));
      if (action === 'sendCtrlAltDel') {
        await manager.sendCtrlAltDel(id);
        return sendJson(response, 200, manager.inspect(id));
      }
      return sendJson(response, 200, await manager[action](id));
    }
    if (parts[3] === 'snapshot') {
      const { path } = parseWith(SnapshotRequestSchema, await readJsonBody(request));
      return sendJson(response, 200, await manager.snapshot(id, path));
    }
  }
  throw new VmError('not_found', `no such endpoint: ${method} ${url.pathname}; see GET /openapi.json`);
}

function upgradeConsole(manager: VmManager, request: IncomingMessage, socket: Duplex): void {
  const url = new URL(request.url ?? '/', 'http://typevisor');
  const match = /^\/v1\/vms\/([^/]+)\/console$/.exec(url.pathname);
  const refuse = (status: number, error: VmError) => {
    const body = JSON.stringify({ error: error.toPayload() });
    socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
  if (!match || (request.headers.upgrade ?? '').toLowerCase() !== CONSOLE_UPGRADE) {
    refuse(400, new VmError('invalid_request', `consoles are at GET /v1/vms/{id}/console with "Upgrade: ${CONSOLE_UPGRADE}"`));
    return;
  }
  // Output may arrive (the scrollback replay) as soon as we attach: the 101 must be on the wire first,
  // so output is held until the handshake is written.
  let upgraded = false;
  const held: Uint8Array[] = [];
  let session;
  try {
    session = manager.attachConsole(
      decodeURIComponent(match[1]),
      (bytes) => (upgraded ? socket.write(bytes) : held.push(bytes.slice())),
      { write: url.searchParams.get('write') === '1', replay: true },
    );
  } catch (error) {
    const e = VmError.from(error);
    refuse(e.code === 'not_found' ? 404 : 409, e);
    return;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${CONSOLE_UPGRADE}\r\nconnection: Upgrade\r\n\r\n`);
  upgraded = true;
  for (const bytes of held.splice(0)) socket.write(bytes);
  socket.on('data', (chunk: Buffer) => {
    if (session.writable) session.write(new Uint8Array(chunk));
  });
  const detach = () => session.detach();
  socket.on('close', detach);
  socket.on('error', detach);
}

/** Creates the HTTP server for the multi-VM API (call `listen` with a socket path or port). */
export function createManagerApiServer(manager: VmManager): Server {
  const server = createServer((request, response) => {
    route(manager, request, response).catch((error: unknown) => sendError(response, error));
  });
  server.on('upgrade', (request, socket) => upgradeConsole(manager, request, socket));
  return server;
}

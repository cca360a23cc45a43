/** Request-body and response helpers shared by both HTTP APIs. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTP_STATUS, VmError } from '@typevisor/vm-protocol';

/** Largest request body either API accepts. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads a JSON body with a size cap; an empty body reads as `undefined`. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_BODY_BYTES) {
    request.resume();
    throw new VmError('payload_too_large', `request body of ${declared} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      request.resume();
      throw new VmError('payload_too_large', `request body exceeds the ${MAX_BODY_BYTES}-byte limit`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VmError('invalid_request', `request body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Writes a JSON response (or an empty one for 204). */
export function sendJson(response: ServerResponse, status: number, body?: unknown): void {
  if (response.headersSent) return;
  if (status === 204 || body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** Writes a protocol error as `{ "error": { "code", "message" } }` with its HTTP status. */
export function sendError(response: ServerResponse, error: unknown): void {
  const vmError = VmError.from(error);
  sendJson(response, HTTP_STATUS[vmError.code], { error: vmError.toPayload() });
}

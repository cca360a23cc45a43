import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpResult {
  status: number;
  body: string;
  json: () => unknown;
}

/** A minimal HTTP client for tests: TCP `port` or a Unix `socketPath`. */
export function requester(target: { port?: number; socketPath?: string }) {
  return (method: string, path: string, body?: string | object, headers: Record<string, string> = {}): Promise<HttpResult> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const request = http.request(
        { host: '127.0.0.1', ...target, method, path, headers: { ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}), ...headers } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: response.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
          });
        },
      );
      request.on('error', reject);
      if (payload !== undefined) request.write(payload);
      request.end();
    });
}

export async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

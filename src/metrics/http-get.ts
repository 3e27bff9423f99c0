import { http, https } from '../http/node-http.js';

// A small HTTP(S) GET for JSON APIs with the options metric backends need: bearer token or basic
// auth, a custom CA bundle, a timeout and a response size limit. Network failures are reported as
// such (`HttpUnreachable`), separate from any HTTP status the server answered with.

export interface HttpOptions {
  bearerToken?: string;
  basicAuth?: { username: string; password: string };
  /** PEM CA bundle to trust instead of the system roots. */
  ca?: string;
  timeoutMs: number;
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export class HttpUnreachable extends Error {
  override readonly name = 'HttpUnreachable';
}

export function httpGet(url: URL, options: HttpOptions): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken !== undefined) headers.authorization = `Bearer ${options.bearerToken}`;
  else if (options.basicAuth) {
    const { username, password } = options.basicAuth;
    headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, { method: 'GET', headers, ...(options.ca !== undefined ? { ca: options.ca } : {}), signal: AbortSignal.timeout(options.timeoutMs) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(new HttpUnreachable(`response larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => {
        reject(new HttpUnreachable(err.message, { cause: err }));
      });
    });
    req.on('error', (err) => {
      const message = err.name === 'AbortError' || err.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : err.message;
      reject(new HttpUnreachable(message, { cause: err }));
    });
    req.end();
  });
}

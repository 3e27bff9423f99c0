import { isIP } from 'node:net';

// Where rollguard sends decisions and what it links to: HTTPS, or plain HTTP only to this machine
// (a port-forward, a sidecar, the tests). Messages never repeat the URL: a webhook URL may carry a
// token in its path or query.

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Why the text is not an acceptable delivery URL, or undefined when it is. */
export function deliveryUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@); reference a Secret instead';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'must be https:// (plain http:// only to a loopback address)';
  return 'must be https:// (plain http:// only to a loopback address)';
}

/** Only scheme, host and port: safe to log. */
export function urlOrigin(text: string): string {
  try {
    return new URL(text).origin;
  } catch {
    return '(invalid URL)';
  }
}

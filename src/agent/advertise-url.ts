import { isIP } from 'node:net';

// Where the Lease holder tells the standbys to forward Alertmanager's notifications
// (`rollguard agent --advertise-url`). In a Pod, its own IP (the chart sets POD_IP from the
// downward API): the Service would reach any replica, not necessarily the leader. Elsewhere the
// loopback address, for replicas on one machine; replicas on several machines set the flag.

export function defaultAdvertiseUrl(podIp: string | undefined, port: number): string {
  const ip = podIp?.trim();
  if (ip === undefined || ip === '' || isIP(ip) === 0) return `http://127.0.0.1:${String(port)}`;
  return `http://${isIP(ip) === 6 ? `[${ip}]` : ip}:${String(port)}`;
}

/** Why a value is not a usable base URL, or undefined. */
export function advertiseUrlProblem(text: string): string | undefined {
  if (!URL.canParse(text)) return `expected a base URL such as http://10.0.0.7:8080, got "${text}"`;
  const u = new URL(text);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `expected an http or https URL, got "${text}"`;
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') return `expected a base URL without query, fragment or credentials, got "${text}"`;
  return undefined;
}

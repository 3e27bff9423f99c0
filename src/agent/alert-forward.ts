import type { Logger } from 'pino';
import type { Counter } from 'prom-client';
import type { LeaseHolder } from './lease.js';

// Alertmanager's notifications are accepted by every replica (R10): Alertmanager counts any other
// answer as a failed notification, which kube-prometheus-stack pages on. The leader evaluates; a
// standby forwards the payload to the leader's URL from the Lease, marked as forwarded so that it is
// never forwarded again, and answers 2xx whatever happens next: when the leader cannot be reached
// the alert is late, not lost, since the leader evaluates every deploy in its span each interval.

/** Set on a forwarded notification; a replica never forwards one that carries it. */
export const FORWARDED_BY_HEADER = 'x-rollguard-forwarded-by';

export type AlertRoute =
  | { kind: 'evaluate' }
  | { kind: 'forward'; to: { identity: string; url: string } }
  /** Forwarded here, but this replica does not lead (the Lease moved): the sender answers Alertmanager. */
  | { kind: 'not-leader'; forwardedBy: string }
  | { kind: 'no-leader'; why: string };

export function routeAlert(input: { leading: boolean; forwardedBy: string | undefined; holder: LeaseHolder | undefined }): AlertRoute {
  if (input.leading) return { kind: 'evaluate' };
  if (input.forwardedBy !== undefined) return { kind: 'not-leader', forwardedBy: input.forwardedBy };
  const h = input.holder;
  if (h === undefined) return { kind: 'no-leader', why: 'no replica holds the Lease now' };
  if (h.url === undefined) return { kind: 'no-leader', why: `the leader ${h.identity} advertises no URL in the Lease (an agent without --advertise-url support)` };
  return { kind: 'forward', to: { identity: h.identity, url: h.url } };
}

export interface AlertAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface AlertForwarderOptions {
  /** This replica's Lease identity, sent in FORWARDED_BY_HEADER. */
  identity: string;
  logger: Logger;
  alerts: Counter<'result'>;
  /** The leader's evaluation interval, named in the answer when forwarding fails. */
  intervalMs: () => number;
  timeoutMs?: number;
}

function describeFailure(err: unknown): string {
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  const code = err instanceof Error && err.cause instanceof Error ? (err.cause as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `unreachable (${code})` : `unreachable (${err instanceof Error ? err.message : String(err)})`;
}

export class AlertForwarder {
  /** True from a failure until the next success: only a streak's first failure is logged. */
  private failing = false;

  constructor(private readonly opts: AlertForwarderOptions) {}

  /** The answer for a route other than `evaluate`; `count` is the number of alerts in `payload`. */
  async deliver(route: Exclude<AlertRoute, { kind: 'evaluate' }>, payload: unknown, count: number): Promise<AlertAnswer> {
    if (route.kind === 'not-leader') {
      return { status: 421, body: { error: `this replica is not the leader (the Lease moved); it does not forward again an alert ${route.forwardedBy} forwarded` } };
    }
    if (route.kind === 'no-leader') return this.failed(route.why, count);
    const target = `${route.to.url.replace(/\/+$/, '')}/alertmanager`;
    let status: number;
    let answer: Record<string, unknown>;
    try {
      const res = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [FORWARDED_BY_HEADER]: this.opts.identity },
        body: JSON.stringify(payload),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2000),
      });
      status = res.status;
      const text = await res.text();
      try {
        answer = JSON.parse(text) as Record<string, unknown>;
      } catch {
        answer = {};
      }
    } catch (err) {
      return this.failed(`forwarding to the leader ${route.to.identity} at ${route.to.url} failed: ${describeFailure(err)}`, count);
    }
    if (status < 200 || status > 299) {
      const error = typeof answer.error === 'string' ? `: ${answer.error}` : '';
      return this.failed(`the leader ${route.to.identity} at ${route.to.url} answered HTTP ${String(status)}${error}`, count);
    }
    if (this.failing) this.opts.logger.info({ leader: route.to.identity, url: route.to.url }, 'forwarding alerts to the leader works again');
    this.failing = false;
    this.opts.alerts.inc({ result: 'forwarded' }, count);
    return { status: 200, body: { forwardedTo: route.to.identity, url: route.to.url, ...answer } };
  }

  private failed(why: string, count: number): AlertAnswer {
    this.opts.alerts.inc({ result: 'forward-failed' }, count);
    if (!this.failing) this.opts.logger.warn({ why }, 'a standby could not hand an alert to the leader; the leader evaluates every deploy at its interval anyway (logged once until forwarding works again)');
    this.failing = true;
    const interval = `${String(Math.round(this.opts.intervalMs() / 1000))}s`;
    return {
      status: 202,
      body: { forwarded: false, message: `accepted by a standby, not evaluated at once: ${why}; the leader evaluates every deploy in its span each interval (${interval}) anyway` },
    };
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ABORTED, pathOf, plainLength, readBody } from '../http/plain-body.js';
import type { Agent } from './agent.js';
import { AlertForwarder, FORWARDED_BY_HEADER, routeAlert } from './alert-forward.js';
import { AlertPayloadError, parseAlertmanagerPayload, type AlertTarget } from './alertmanager.js';

// POST /alertmanager: Alertmanager's notification, evaluated at once by the leader or handed to it
// by a standby. The notifications Alertmanager sends (a Content-Length, no compression) are read
// and answered on node:http (alertmanagerRoute); any other shape goes through the express app's
// body parser to the same receive(). Either way express is not loaded for an agent's alerts:
// about 4 MB of RSS an agent would keep from its first notification on.

export const MAX_ALERT_BYTES = 1024 * 1024;

/** What the express path answers a body that is not JSON, and this one too. */
export const NOT_JSON = 'body is not valid JSON; expected an Alertmanager webhook payload';

export interface AlertAnswer {
  status: number;
  body: unknown;
}

export class AlertReceiver {
  private readonly forwarder: AlertForwarder;

  constructor(
    private readonly agent: Agent,
    logger: Logger,
  ) {
    this.forwarder = new AlertForwarder({ identity: agent.lease.identity, logger, alerts: agent.metrics.alerts, intervalMs: () => agent.intervalMs() });
  }

  /** The answer to a notification whose body was parsed as JSON. */
  async receive(body: unknown, forwardedBy: string | string[] | undefined): Promise<AlertAnswer> {
    const { agent } = this;
    let alerts: AlertTarget[];
    try {
      alerts = parseAlertmanagerPayload(body);
    } catch (err) {
      if (!(err instanceof AlertPayloadError)) throw err;
      agent.metrics.alerts.inc({ result: 'ignored' });
      return { status: 400, body: { error: err.message } };
    }
    // Every replica accepts a valid notification: the leader evaluates, a standby hands it over.
    const route = routeAlert({ leading: agent.lease.isLeader(), forwardedBy: Array.isArray(forwardedBy) ? forwardedBy[0] : forwardedBy, holder: agent.lease.holder() });
    if (route.kind === 'evaluate') return { status: 200, body: agent.handleAlerts(alerts) };
    return this.forwarder.deliver(route, body, alerts.length);
  }
}

function send(res: ServerResponse, answer: AlertAnswer): void {
  const text = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** As body-parser's strict JSON reads it: an object or array; an empty body is an empty object. */
function parseStrict(text: string): { ok: true; value: unknown } | { ok: false } {
  const first = /\S/.exec(text)?.[0];
  if (first === undefined) return { ok: true, value: {} };
  if (first !== '{' && first !== '[') return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

/** Takes POST /alertmanager when it has the plain shape (true); else leaves it to the express app (false). */
export function alertmanagerRoute(receiver: AlertReceiver, logger: Logger): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || pathOf(req) !== '/alertmanager') return false;
    const length = plainLength(req, MAX_ALERT_BYTES);
    if (length === undefined) return false;
    readBody(req, length, (raw) => {
      if (raw === undefined) {
        send(res, { status: 400, body: { error: ABORTED } });
        return;
      }
      const parsed = parseStrict(raw.toString('utf8'));
      if (!parsed.ok) {
        send(res, { status: 400, body: { error: NOT_JSON } });
        return;
      }
      receiver.receive(parsed.value, req.headers[FORWARDED_BY_HEADER]).then(
        (answer) => {
          send(res, answer);
        },
        (err: unknown) => {
          logger.error({ error: err instanceof Error ? err.message : String(err) }, 'request failed');
          send(res, { status: 500, body: { error: 'internal error; see the agent log' } });
        },
      );
    });
    return true;
  };
}

import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { addHealthRoutes } from '../health/routes.js';
import type { Agent } from './agent.js';
import { AlertForwarder, FORWARDED_BY_HEADER, routeAlert } from './alert-forward.js';
import { AlertPayloadError, parseAlertmanagerPayload, type AlertTarget } from './alertmanager.js';
import { renderHandoffSection } from '../report/handoff-html.js';
import { decisionReportInput, renderDecisionPage } from './decision-page.js';
import { decisionJson } from './decision-record.js';

/** The decision page, with a form token for the browser's CSRF secret (set as a cookie when it has none). */
async function sendDecisionPage(agent: Agent, req: Request, res: Response, status: number, id: string, banner?: { ok: boolean; message: string }): Promise<void> {
  const session = agent.webAuth.csrfSession(req.headers.cookie);
  if (session.fresh) res.setHeader('Set-Cookie', agent.webAuth.csrfCookie(session.value));
  res.status(status).type('html').send(await decisionPage(agent, id, session.value, banner));
}

async function decisionPage(agent: Agent, id: string, session: string, banner?: { ok: boolean; message: string }): Promise<string> {
  const record = agent.decisions.get(id);
  if (record === undefined) throw new Error(`no decision ${id}`);
  const policy = agent.policyFor(record.namespace);
  const now = Date.now();
  const input = await decisionReportInput(record, agent.sourceFor(policy), policy, now);
  const handoff = record.handoff?.latest;
  return renderDecisionPage(input, record, {
    now,
    csrf: agent.webAuth.csrfToken(id, session),
    ttlMs: policy.notifications.decisionTtlMs,
    ...(banner === undefined ? {} : { banner }),
    ...(handoff === undefined ? {} : { extra: renderHandoffSection(handoff) }),
  });
}

// The agent's plain-HTTP endpoints, for the cluster network: Alertmanager's webhook receiver, the
// decisions as JSON and their pages (and the probes and metrics, which http.ts answers before
// express is loaded). Bad input gets a precise 4xx, never a crash (F5).

const MAX_ALERT_BYTES = 1024 * 1024;

function problem(res: Response, code: number, message: string): void {
  res.status(code).json({ error: message });
}

export function createAgentApp(agent: Agent, logger: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  addHealthRoutes(app, { metrics: agent.metrics, ready: () => agent.readiness() });
  const forwarder = new AlertForwarder({ identity: agent.lease.identity, logger, alerts: agent.metrics.alerts, intervalMs: () => agent.intervalMs() });
  app.post('/alertmanager', express.json({ limit: MAX_ALERT_BYTES, type: () => true }), async (req, res) => {
    let alerts: AlertTarget[];
    try {
      alerts = parseAlertmanagerPayload(req.body);
    } catch (err) {
      if (err instanceof AlertPayloadError) {
        agent.metrics.alerts.inc({ result: 'ignored' });
        problem(res, 400, err.message);
        return;
      }
      throw err;
    }
    // Every replica accepts a valid notification: the leader evaluates, a standby hands it over.
    const forwardedBy = req.headers[FORWARDED_BY_HEADER];
    const route = routeAlert({ leading: agent.lease.isLeader(), forwardedBy: Array.isArray(forwardedBy) ? forwardedBy[0] : forwardedBy, holder: agent.lease.holder() });
    if (route.kind === 'evaluate') {
      res.json(agent.handleAlerts(alerts));
      return;
    }
    const answer = await forwarder.deliver(route, req.body, alerts.length);
    res.status(answer.status).json(answer.body);
  });
  app.get('/decisions', (req, res) => {
    const namespace = typeof req.query.namespace === 'string' ? req.query.namespace : undefined;
    const openOnly = req.query.state === 'open';
    res.json({ leader: agent.lease.isLeader(), decisions: agent.decisions.list({ namespace, openOnly }).map((r) => decisionJson(r, agent.policyFor(r.namespace).notifications.pageUrl)) });
  });
  app.get('/decisions/:id', async (req, res) => {
    const record = agent.decisions.get(req.params.id);
    if (record === undefined) {
      problem(res, 404, `no decision ${req.params.id} (every replica reads the same RollbackDecisions; a closed decision is deleted after the retention)`);
      return;
    }
    if (req.accepts(['json', 'html']) === 'html') {
      await sendDecisionPage(agent, req, res, 200, record.id);
      return;
    }
    res.json(decisionJson(record, agent.policyFor(record.namespace).notifications.pageUrl));
  });
  app.post('/slack/actions', express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    const handler = agent.slackActions;
    if (handler === undefined) {
      problem(res, 404, 'the Slack buttons are not enabled on this agent');
      return;
    }
    const { reply, done } = await handler.handle(typeof req.body === 'string' ? req.body : '', req.headers);
    res.status(reply.status).type('text/plain').send(reply.body);
    await done;
  });
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  for (const action of ['apply', 'dismiss'] as const) {
    app.post(`/decisions/:id/${action}`, form, express.json({ limit: '16kb' }), async (req, res) => {
      const id = req.params.id;
      const body = (req.body ?? {}) as { csrf?: unknown; token?: unknown };
      const wantsHtml = req.accepts(['json', 'html']) === 'html';
      const answer = async (status: number, ok: boolean, message: string): Promise<void> => {
        if (wantsHtml && agent.decisions.get(id) !== undefined) await sendDecisionPage(agent, req, res, status, id, { ok, message });
        else res.status(status).json({ ok, message });
      };
      // A bearer token in the Authorization header is not ambient; anything else (a form, a proxy's
      // session) must prove it comes from the page: the decision's CSRF token, and no foreign Origin.
      const headerAuth = typeof req.headers.authorization === 'string';
      const origin = req.headers.origin;
      if (!headerAuth && (!agent.webAuth.csrfValid(id, body.csrf, req.headers.cookie) || (origin !== undefined && origin !== 'null' && new URL(origin).host !== req.headers.host))) {
        await answer(403, false, 'the request did not come from this decision page (CSRF check failed); reload the page and press the button again');
        return;
      }
      const who = await agent.webAuth.identify(req.headers, req.socket.remoteAddress, body.token);
      if (!who.ok) {
        await answer(who.status, false, who.message);
        return;
      }
      const result = action === 'apply' ? await agent.actions.apply(id, who.identity, 'web') : await agent.actions.dismiss(id, who.identity, 'web');
      await answer(result.ok ? 200 : result.status, result.ok, result.message);
    });
  }
  app.use((req, res) => {
    problem(res, 404, `no route ${req.method} ${req.path}; the agent serves GET /healthz, /readyz, /metrics, /decisions, /decisions/{id} and POST /alertmanager, /decisions/{id}/apply, /decisions/{id}/dismiss`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: unknown; status?: unknown; message?: unknown };
    if (e.type === 'entity.too.large') {
      problem(res, 413, `body larger than ${MAX_ALERT_BYTES} bytes`);
      return;
    }
    if (e.type === 'entity.parse.failed') {
      problem(res, 400, 'body is not valid JSON; expected an Alertmanager webhook payload');
      return;
    }
    logger.error({ error: typeof e.message === 'string' ? e.message : String(err) }, 'request failed');
    problem(res, 500, 'internal error; see the agent log');
  });
  return app;
}

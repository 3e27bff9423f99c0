import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { addHealthRoutes } from '../health/routes.js';
import type { Agent } from './agent.js';
import { FORWARDED_BY_HEADER } from './alert-forward.js';
import { MAX_ALERT_BYTES, NOT_JSON, type AlertReceiver } from './alert-receiver.js';
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

function problem(res: Response, code: number, message: string): void {
  res.status(code).json({ error: message });
}

export function createAgentApp(agent: Agent, logger: Logger, alerts: AlertReceiver): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  addHealthRoutes(app, { metrics: agent.metrics, ready: () => agent.readiness() });
  // The notifications node:http does not take (alert-receiver.ts): compressed, chunked, over the limit.
  app.post('/alertmanager', express.json({ limit: MAX_ALERT_BYTES, type: () => true }), async (req, res) => {
    const answer = await alerts.receive(req.body, req.headers[FORWARDED_BY_HEADER]);
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
      problem(res, 400, NOT_JSON);
      return;
    }
    logger.error({ error: typeof e.message === 'string' ? e.message : String(err) }, 'request failed');
    problem(res, 500, 'internal error; see the agent log');
  });
  return app;
}

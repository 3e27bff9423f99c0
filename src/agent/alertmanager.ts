import * as z from 'zod';

// Alertmanager's webhook receiver payload (version 4): which alerts fired, and the labels that say
// which deploy they are about. Only the fields rollguard uses are checked; the rest passes.

const alertSchema = z.object({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  startsAt: z.string().optional(),
  fingerprint: z.string().optional(),
});

const payloadSchema = z.object({
  version: z.literal('4', { message: 'version must be "4" (Alertmanager webhook_config payload)' }),
  status: z.enum(['firing', 'resolved']).optional(),
  alerts: z.array(alertSchema),
});

export interface AlertTarget {
  name: string;
  status: 'firing' | 'resolved';
  namespace: string | undefined;
  service: string | undefined;
  deployment: string | undefined;
}

export class AlertPayloadError extends Error {}

export function parseAlertmanagerPayload(body: unknown): AlertTarget[] {
  const parsed = payloadSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new AlertPayloadError(`not an Alertmanager webhook payload (version 4): ${issues.join('; ')}`);
  }
  return parsed.data.alerts.map((a) => ({
    name: a.labels.alertname ?? a.fingerprint ?? 'unnamed',
    status: a.status,
    namespace: a.labels.namespace,
    service: a.labels.service,
    deployment: a.labels.deployment,
  }));
}

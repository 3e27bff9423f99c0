import { formatInstant } from '../core/duration.js';
import type { Handoff } from '../core/handoff-types.js';

// The handoff as GET /decisions/{id} serves it: the same fields, times in RFC 3339, null for unknown.

const time = (t: number | undefined): string | null => (t === undefined ? null : formatInstant(t));

export function handoffJson(h: Handoff): Record<string, unknown> {
  const s = h.signal;
  return {
    at: formatInstant(h.at),
    service: h.service,
    changeSet: h.changeSet,
    signal: {
      threshold: s.threshold,
      baseline: s.baseline ?? null,
      triggering: s.triggering ?? null,
      onset: time(s.onset),
      deployStart: time(s.deployStart),
      deployComplete: time(s.deployComplete),
      rollbackAt: time(s.rollbackAt),
      rollbackComplete: time(s.rollbackComplete),
      stepSeconds: s.stepMs / 1000,
      points: s.points.map((p) => [formatInstant(p.t), p.v]),
    },
    recovery: { ...h.recovery, band: h.recovery.band ?? null, sinceRollback: h.recovery.sinceRollback ?? null, recent: h.recovery.recent ?? null, backInBandSince: time(h.recovery.backInBandSince) },
    neighbours: h.neighbours.map((n) => ({ ...n, backInBandSince: time(n.backInBandSince) })),
    assessment: h.assessment,
    settled: h.settled,
    notes: h.notes,
  };
}

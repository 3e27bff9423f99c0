import type { Condition } from '../decision-types.js';
import type { Policy } from '../policy.js';
import { ambiguityEvidence, isAmbiguous, noMatchEvidence, serviceOnlyNote } from '../metric-match.js';
import { describeRequiredPersistence, requiredPersistence } from '../regression.js';
import type { Regression } from '../regression-types.js';

// R5: only a clean error-rate regression can trigger automation. Latency alone asks a human; no
// data and too little traffic are not clean signals; a breach must persist.

const pct = (x: number): string => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)}%`;

/** A p-value as a person reads it; one that underflowed to 0 is below the smallest double. */
const pText = (p: number): string => (p === 0 ? 'p<1e-300' : `p=${p.toPrecision(2)}`);

export function persistedEnough(regression: Regression, policy: Policy): boolean {
  const needed = requiredPersistence(policy);
  return (regression.errorRate?.persisted ?? 0) >= needed || (regression.latency?.persisted ?? 0) >= needed;
}

function latencyOnly(regression: Regression): Condition {
  const l = regression.latency;
  const detail = l ? ` (p99 ${l.baselineP99.toFixed(3)}s → ${l.currentP99.toFixed(3)}s)` : '';
  return { status: 'unmet', evidence: `latency regressed without an error-rate rise${detail}: ambiguous, a human must confirm` };
}

/**
 * R5 with the metric match in view: a selector that matched nothing says so (never a silent "no
 * regression"), a service-only match says so, and an ambiguous one is unknown (F1).
 */
export function judgeCleanSignal(regression: Regression | undefined, policy: Policy): Condition {
  if (regression === undefined) return { status: 'unknown', evidence: 'no regression signal was evaluated' };
  const m = regression.match;
  if (m?.kind === 'none') return { status: 'unknown', evidence: `${noMatchEvidence(m)}: not a regression, and not a clean signal` };
  if (m !== undefined && isAmbiguous(m)) return { status: 'unknown', evidence: ambiguityEvidence(m, regression.service) };
  const judged = judgeSeries(regression, policy);
  return m?.kind === 'service-only' ? { ...judged, evidence: `${judged.evidence} (${serviceOnlyNote(m)})` } : judged;
}

function judgeSeries(regression: Regression, policy: Policy): Condition {
  const t = policy.thresholds;
  if (regression.data === 'no-data') return { status: 'unknown', evidence: 'no metric data for the service: not a regression, and not a clean signal' };
  if (regression.signal === undefined) return { status: 'unknown', evidence: 'no error-rate or latency regression was detected' };
  if (regression.signal === 'latency') return latencyOnly(regression);
  const e = regression.errorRate;
  if (e === undefined) return { status: 'unknown', evidence: 'an error-rate regression was reported without its counts' };
  const shift = `5xx share ${pct(e.baseline)} → ${pct(e.current)} over ${e.currentRequests} requests`;
  if (regression.data === 'low-traffic' || e.currentRequests < t.minRequests) {
    return { status: 'unknown', evidence: `${shift}: too little traffic to tell (minimum ${t.minRequests} requests)` };
  }
  if (e.current <= t.errorRate) return { status: 'unmet', evidence: `${shift}: not above the ${pct(t.errorRate)} threshold` };
  if (!(e.pValue < t.significance)) {
    return { status: 'unmet', evidence: `${shift}: not significantly above the pre-deploy baseline (${pText(e.pValue)}, needs < ${t.significance})` };
  }
  const needed = requiredPersistence(policy);
  if (e.persisted < needed) {
    const asked = describeRequiredPersistence(policy);
    return { status: 'unmet', evidence: `${shift}: seen in ${e.persisted} of ${needed} consecutive evaluations (persistence ${asked}), not yet persistent` };
  }
  return {
    status: 'met',
    evidence: `${shift}, above the ${pct(t.errorRate)} threshold, ${pText(e.pValue)} against the baseline, for ${e.persisted} consecutive evaluations`,
  };
}

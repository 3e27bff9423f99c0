import type { SeriesMatch } from './metric-match.js';
import type { OnsetInStep } from './onset-in-step.js';

// What regression detection hands to the decision: which service regressed, on which signal, since
// when, and how sure the detector is. Produced from metric series by the detector; tests and
// `rollguard decide` inputs build it by hand.

export type Signal = 'error-rate' | 'latency' | 'both';

/**
 * `ok`: enough data to judge. `no-data`: no series at all (never a regression, never a clean
 * signal). `low-traffic`: fewer requests than the policy minimum (not a clean signal).
 */
export type DataStatus = 'ok' | 'no-data' | 'low-traffic';

export interface ErrorRateEvidence {
  /** 5xx share of requests before the deploy. */
  baseline: number;
  /** 5xx share of requests since the onset. */
  current: number;
  baselineRequests: number;
  currentRequests: number;
  /** p-value of the test of current against baseline counts (smaller is stronger). */
  pValue: number;
  /** Consecutive evaluations the breach has persisted. */
  persisted: number;
}

export interface LatencyEvidence {
  /** p99 latency in seconds before the deploy. */
  baselineP99: number;
  /** p99 latency in seconds since the onset. */
  currentP99: number;
  pValue: number;
  persisted: number;
}

export interface Regression {
  service: string;
  namespace: string;
  /** Which signal regressed; undefined when nothing regressed (or nothing could be told). */
  signal: Signal | undefined;
  data: DataStatus;
  /** Estimated start of the regression (epoch ms), from the series, not the alert time. */
  onset: number | undefined;
  /** Half-width of the onset estimate's uncertainty in ms. */
  onsetUncertaintyMs?: number;
  /** Where the onset lies against a deploy start inside its own step, read from the scrapes (R1). */
  onsetInStep?: OnsetInStep;
  errorRate?: ErrorRateEvidence;
  latency?: LatencyEvidence;
  /** How the metric selector matched, when not exactly: nothing matched, or the service label alone. */
  match?: SeriesMatch;
}

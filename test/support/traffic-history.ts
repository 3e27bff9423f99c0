import { formatOpenMetrics, type Family, type Sample } from '../../src/metrics/openmetrics-format.js';
import { TrafficModel, type Traffic } from './test-exporter.js';

// Past traffic for a scraping Prometheus: the same TrafficModel the exporter serves, started
// `historyMs` ago and rendered every step up to now as timestamped OpenMetrics, which Prometheus
// backfills. The exporter then serves the very same model, so the counters run on without a jump
// and a deploy made now has a pre-deploy baseline at once.

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(LABEL)) out[m[1] ?? ''] = (m[2] ?? '').replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  return out;
}

export interface TrafficWithHistory {
  /** Serve this model with startTestExporter({ model }) once the history is written. */
  model: TrafficModel;
  /** Timestamped OpenMetrics of [now − historyMs, now]. */
  history: string;
  /**
   * The same history with `labels` on every sample: give it the job and instance labels the scrape
   * will add, or Prometheus keeps the history and the live scrapes as two series, and the live one,
   * born with the whole history in its counters, reads as one huge burst of requests.
   */
  historyWith: (labels: Readonly<Record<string, string>>) => string;
}

export interface HistoryOptions {
  historyMs: number;
  stepMs: number;
  /** Where the history ends (epoch ms); a time ahead of the clock makes samples a source reveals as time passes. */
  now?: number;
  /** Traffic changes inside the history, applied from their time on. */
  changes?: readonly { at: number; namespace: string; service: string; traffic: Partial<Traffic> }[];
}

export function trafficWithHistory(services: readonly { namespace: string; service: string; traffic: Partial<Traffic> }[], opts: HistoryOptions): TrafficWithHistory {
  const end = opts.now ?? Date.now();
  let t = end - opts.historyMs;
  let live = false;
  const model = new TrafficModel({ clock: () => (live ? Date.now() : t) });
  for (const s of services) model.set(s.namespace, s.service, s.traffic);
  const families = new Map<string, { type: Family['type']; samples: Sample[] }>();
  const familyOf = (name: string): { family: string; type: Family['type'] } => {
    if (name.endsWith('_total')) return { family: name.slice(0, -'_total'.length), type: 'counter' };
    const h = /^(.*)_(bucket|sum|count)$/.exec(name);
    return h?.[1] !== undefined ? { family: h[1], type: 'histogram' } : { family: name, type: 'unknown' };
  };
  const pending = [...(opts.changes ?? [])].sort((a, b) => a.at - b.at);
  for (; t <= end; t += opts.stepMs) {
    while (pending[0] !== undefined && pending[0].at <= t) {
      const c = pending.shift();
      if (c !== undefined) model.set(c.namespace, c.service, c.traffic);
    }
    for (const line of model.render(t).split('\n')) {
      const m = SAMPLE.exec(line);
      if (m === null) continue;
      const name = m[1] ?? '';
      const { family, type } = familyOf(name);
      const f = families.get(family) ?? { type, samples: [] };
      f.samples.push({ name, labels: parseLabels(m[2] ?? ''), value: Number(m[3]), timestamp: t });
      families.set(family, f);
    }
  }
  live = true;
  const historyWith = (labels: Readonly<Record<string, string>>): string =>
    formatOpenMetrics([...families].map(([name, f]) => ({ name, type: f.type, samples: f.samples.map((x) => ({ ...x, labels: { ...x.labels, ...labels } })) })));
  return {
    model,
    get history() {
      return historyWith({});
    },
    historyWith,
  };
}

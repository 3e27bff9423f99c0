import type { Condition } from '../decision-types.js';
import type { Regression } from '../regression-types.js';
import type { RevisionSplit } from '../revision-split.js';
import { attributeToRevision } from './revision.js';

// R2: the regressing service is the deployed one. When most of the namespace regressed at once the
// cause is shared (a dependency, the network, traffic), not this deploy.

export function regressed(r: Regression): boolean {
  return r.signal !== undefined && r.data !== 'no-data';
}

function names(rs: readonly Regression[]): string {
  return rs.map((r) => r.service).join(', ');
}

/** R2, with the split by revision as further evidence (and unmet when only the older pods regressed). */
export function judgeSameService(
  service: string,
  namespace: string,
  regression: Regression | undefined,
  neighbours: readonly Regression[],
  split?: RevisionSplit,
): Condition {
  const judged = judgeService(service, namespace, regression, neighbours);
  return regression?.signal === undefined || regression.service !== service ? judged : attributeToRevision(judged, split);
}

function judgeService(
  service: string,
  namespace: string,
  regression: Regression | undefined,
  neighbours: readonly Regression[],
): Condition {
  if (regression === undefined || regression.signal === undefined) {
    return { status: 'unknown', evidence: 'no regression was detected to attribute to a service' };
  }
  if (regression.service !== service || regression.namespace !== namespace) {
    return {
      status: 'unmet',
      evidence: `the regression is in ${regression.namespace}/${regression.service}, not in the deployed service ${namespace}/${service}`,
    };
  }
  const others = neighbours.filter((n) => n.service !== service);
  const alsoRegressed = others.filter(regressed);
  const judged = others.filter((n) => n.data !== 'no-data');
  if (alsoRegressed.length >= 2 && alsoRegressed.length * 2 >= judged.length) {
    return {
      status: 'unmet',
      evidence: `${service} regressed, but so did ${alsoRegressed.length} of ${judged.length} other services (${names(alsoRegressed)}): everything regressed at once, likely not this deploy`,
    };
  }
  const tail = alsoRegressed.length > 0 ? `; also regressing: ${names(alsoRegressed)}` : others.length > 0 ? `; ${others.length} other ${others.length === 1 ? 'service checked is' : 'services checked are'} healthy` : '';
  return { status: 'met', evidence: `the regression is in ${service}, the deployed service${tail}` };
}

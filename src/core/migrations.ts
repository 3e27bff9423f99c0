import { ANNOTATIONS } from './annotations.js';
import { annotationsOf, labelsOf, selectorMatches, type Container, type Job, type LabelSelector } from './kube.js';

// R4: is this Job a schema migration, and why. A label, a policy selector, a Helm upgrade hook or
// a heuristic on name, image and command; the reason names which, so a person can check it.

export interface MigrationMatch {
  migration: boolean;
  reason: string;
}

const TOOL_PATTERNS: readonly [RegExp, string][] = [
  [/db:migrate|db:schema:load|db:rollback/i, 'rails db:migrate'],
  [/\bflyway\b/i, 'flyway'],
  [/\bliquibase\b/i, 'liquibase'],
  [/\balembic\b/i, 'alembic'],
  [/\bprisma\b.*\bmigrate\b|\bprisma-migrate\b/i, 'prisma migrate'],
  [/\bknex\b.*\bmigrate\b/i, 'knex migrate'],
  [/\bsqitch\b/i, 'sqitch'],
  [/\bgoose\b/i, 'goose'],
  [/\bdbmate\b/i, 'dbmate'],
  [/\batlas\b.*\b(migrate|schema apply)\b/i, 'atlas'],
  [/\bmanage\.py\b.*\bmigrate\b/i, 'django migrate'],
  [/\bsequelize\b.*\bdb:migrate\b/i, 'sequelize'],
  [/\bmigrat(e|ion|ions|or)\b|[-_./]migrat(e|ion|ions|or)([-_./:]|$)|^migrat/i, 'migrate'],
];

const HELM_UPGRADE_HOOKS = ['pre-install', 'post-install', 'pre-upgrade', 'post-upgrade', 'pre-rollback', 'post-rollback'];

function matchTool(text: string): string | undefined {
  for (const [pattern, tool] of TOOL_PATTERNS) if (pattern.test(text)) return tool;
  return undefined;
}

function containerTexts(container: Container): [string, string][] {
  const out: [string, string][] = [];
  if (container.image) out.push([`image ${container.image}`, container.image]);
  const cmd = [...(container.command ?? []), ...(container.args ?? [])].join(' ');
  if (cmd !== '') out.push([`command "${cmd}"`, cmd]);
  return out;
}

/**
 * `readStamp`: the Job is as stored, so the webhook's own verdict at admission counts (the agent);
 * the webhook itself, judging a request, never reads the stamp it is about to write.
 */
export function detectMigration(job: Job, selectors: readonly LabelSelector[], opts: { readStamp?: boolean } = {}): MigrationMatch {
  const labels = labelsOf(job);
  const annotations = annotationsOf(job);
  const marker = ANNOTATIONS.migration.key;
  if (labels[marker] === 'true' || annotations[marker] === 'true') {
    return { migration: true, reason: `labelled ${marker}: "true"` };
  }
  if (opts.readStamp === true && annotations[ANNOTATIONS.migrationDetected.key] === 'true') {
    return { migration: true, reason: `stamped a migration at admission: ${annotations[ANNOTATIONS.migrationReason.key] ?? 'no reason recorded'}` };
  }
  const selectorIndex = selectors.findIndex((s) => selectorMatches(s, labels));
  if (selectorIndex >= 0) {
    return { migration: true, reason: `matches policy migration selector #${selectorIndex + 1}` };
  }
  const hooks = (annotations['helm.sh/hook'] ?? '').split(',').map((h) => h.trim());
  const hook = hooks.find((h) => HELM_UPGRADE_HOOKS.includes(h));
  if (hook !== undefined) return { migration: true, reason: `Helm ${hook} hook Job` };

  const name = job.metadata?.name ?? job.metadata?.generateName ?? '';
  const nameTool = matchTool(name);
  if (nameTool !== undefined) return { migration: true, reason: `name "${name}" looks like a migration (${nameTool})` };
  const spec = job.spec?.template?.spec;
  for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
    for (const [described, text] of containerTexts(container)) {
      const tool = matchTool(text);
      if (tool !== undefined) return { migration: true, reason: `${described} of container ${container.name} mentions ${tool}` };
    }
  }
  return { migration: false, reason: 'no migration label, selector, Helm hook, or migration tool in name, image or command' };
}

import { describe, expect, it } from 'vitest';
import { detectMigration } from '../../src/core/migrations.js';
import { job } from '../support/builders.js';

describe('R4 migration detection', () => {
  it.each([
    ['the rollguard.io/migration label', job('schema-update', { labels: { 'rollguard.io/migration': 'true' } }), /labelled rollguard.io\/migration/],
    ['a Helm pre-upgrade hook', job('chart-hook', { annotations: { 'helm.sh/hook': 'pre-upgrade,pre-install' } }), /Helm pre-upgrade hook/],
    ['a name mentioning migrate', job('checkout-db-migrate-7x2k'), /name "checkout-db-migrate-7x2k"/],
    ['a flyway image', job('schema', { image: 'flyway/flyway:10' }), /image flyway\/flyway:10 .* flyway/],
    ['a liquibase image', job('schema', { image: 'liquibase/liquibase:4.25' }), /liquibase/],
    ['rails db:migrate', job('release', { command: ['bundle', 'exec', 'rails', 'db:migrate'] }), /rails db:migrate/],
    ['alembic upgrade', job('release', { command: ['alembic', 'upgrade', 'head'] }), /alembic/],
    ['prisma migrate deploy', job('release', { command: ['npx', 'prisma', 'migrate', 'deploy'] }), /prisma migrate/],
    ['knex migrate:latest', job('release', { command: ['npx', 'knex', 'migrate:latest'] }), /knex migrate/],
    ['sqitch deploy', job('release', { command: ['sqitch', 'deploy'] }), /sqitch/],
    ['django manage.py migrate', job('release', { command: ['python', 'manage.py', 'migrate'] }), /migrate/],
  ])('recognizes %s', (_label, j, reason) => {
    const m = detectMigration(j, []);
    expect(m.migration).toBe(true);
    expect(m.reason).toMatch(reason);
  });

  it('recognizes a Job matching a policy selector and says which', () => {
    const m = detectMigration(job('x', { labels: { team: 'db', kind: 'schema' } }), [{ matchLabels: { team: 'payments' } }, { matchExpressions: [{ key: 'kind', operator: 'In', values: ['schema'] }] }]);
    expect(m).toEqual({ migration: true, reason: 'matches policy migration selector #2' });
  });

  it.each([
    ['a report cron job', job('nightly-report', { image: 'reports:2', command: ['node', 'report.js'] })],
    ['a Helm test hook', job('chart-test', { annotations: { 'helm.sh/hook': 'test' } })],
    ['a name that only contains "immigrant"', job('immigrant-stats')],
  ])('does not flag %s', (_label, j) => {
    expect(detectMigration(j, []).migration).toBe(false);
  });
});

describe('R4 the webhook’s own migration verdict', () => {
  const stamped = job('nightly', { annotations: { 'rollguard.io/migration-detected': 'true', 'rollguard.io/migration-reason': 'matches policy migration selector #1' } });

  it('counts for a stored Job (the agent reads it)', () => {
    expect(detectMigration(stamped, [], { readStamp: true })).toEqual({ migration: true, reason: 'stamped a migration at admission: matches policy migration selector #1' });
  });

  it('is never read while judging a request (a client cannot write the verdict, and reinvocation stays stable)', () => {
    expect(detectMigration(stamped, []).migration).toBe(false);
  });
});

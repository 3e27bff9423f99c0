import { describe, expect, it } from 'vitest';
import { eventsAsOf } from '../../src/timeline/deploys.js';
import type { JobRun } from '../../src/core/change-events.js';
import { at, auditEvent, JOB_CONTROLLER, jobObject, micro, timelineOf } from '../fixtures/audit/builders.js';

const migrate = jobObject('db-migrate-42', { command: ['bin/rails', 'db:migrate'] });
const create = auditEvent({ verb: 'create', resource: 'jobs', namespace: 'shop', name: 'db-migrate-42', at: at(0), requestObject: migrate, responseObject: migrate });

function jobStatus(minutes: number, status: Record<string, unknown>, level: 'RequestResponse' | 'Request' | 'Metadata' = 'RequestResponse', verb: 'update' | 'patch' = 'update') {
  const obj = jobObject('db-migrate-42', { status });
  return auditEvent({
    verb,
    resource: 'jobs',
    subresource: 'status',
    namespace: 'shop',
    name: 'db-migrate-42',
    at: at(minutes),
    level,
    user: JOB_CONTROLLER,
    requestObject: verb === 'patch' ? { status } : obj,
    responseObject: obj,
  });
}

const runs = (events: ReturnType<typeof timelineOf>['events']) => events.filter((e): e is JobRun => e.type === 'job-run');

describe('R4 Job runs from the audit log', () => {
  it('starts at the create with the Job object, ends at its completionTime', () => {
    const [run] = runs(timelineOf([create, jobStatus(1, { startTime: micro(at(0)), active: 1 }), jobStatus(3, { succeeded: 1, completionTime: micro(at(2.5)) })]).events);
    expect(run).toMatchObject({ type: 'job-run', namespace: 'shop', name: 'db-migrate-42', startedAt: at(0), finishedAt: at(2.5) });
    expect(run?.job?.spec?.template?.spec?.containers?.[0]?.command).toEqual(['bin/rails', 'db:migrate']);
    expect(run?.job?.metadata?.managedFields).toBeUndefined();
  });

  it('ends at a Failed condition written by a Request-level status patch', () => {
    const failed = jobStatus(4, { failed: 1, conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-03-02T10:03:30Z' }] }, 'Request', 'patch');
    expect(runs(timelineOf([create, failed]).events)[0]?.finishedAt).toBe(at(3.5));
  });

  it('does not end on a condition that is not true', () => {
    const pending = jobStatus(4, { conditions: [{ type: 'Complete', status: 'False' }] });
    expect(runs(timelineOf([create, pending]).events)[0]?.finishedAt).toBeUndefined();
  });

  it('F1 Metadata level: the Job is known by name only and its end stays unknown', () => {
    const bare = auditEvent({ verb: 'create', resource: 'jobs', namespace: 'shop', name: 'db-migrate-42', at: at(0), level: 'Metadata' });
    const [run] = runs(timelineOf([bare, jobStatus(3, { succeeded: 1, completionTime: micro(at(2.5)) }, 'Metadata')]).events);
    expect(run).toMatchObject({ name: 'db-migrate-42', startedAt: at(0), finishedAt: undefined, job: undefined });
  });

  it('a Job deleted while running ends at the delete', () => {
    const del = auditEvent({ verb: 'delete', resource: 'jobs', namespace: 'shop', name: 'db-migrate-42', at: at(7), level: 'Metadata' });
    expect(runs(timelineOf([create, del]).events)[0]?.finishedAt).toBe(at(7));
  });

  it('a Job created before the log began starts at its status.startTime', () => {
    const [run] = runs(timelineOf([jobStatus(3, { startTime: micro(at(-20)), succeeded: 1, completionTime: micro(at(2)) })]).events);
    expect(run).toMatchObject({ startedAt: at(-20), finishedAt: at(2) });
  });
});

describe('R4 no hindsight: the timeline as of a moment', () => {
  it('drops later events and keeps a Job that finished later running', () => {
    const { events } = timelineOf([create, jobStatus(10, { succeeded: 1, completionTime: micro(at(9)) })]);
    expect(runs(eventsAsOf(events, at(5)))[0]?.finishedAt).toBeUndefined();
    expect(runs(eventsAsOf(events, at(9)))[0]?.finishedAt).toBe(at(9));
    expect(eventsAsOf(events, at(-1))).toEqual([]);
    expect(runs(events)[0]?.finishedAt).toBe(at(9));
  });
});

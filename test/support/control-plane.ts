import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, inject, it } from 'vitest';
import { adminControlPlane, type ControlPlane } from './control-plane-admin.js';
import type { ControlPlaneContext, ControlPlaneFacts } from './control-plane-context.js';
import { ENABLE_HINT } from './control-plane-launch.js';

// Test-side access to the run's shared Kubernetes control plane (see control-plane-setup.ts):
// the first controlPlane() in any worker makes the main process start it, later calls get the same
// instance. Tests must share it politely: their own namespaces (namespaces.ts), and cluster-scoped
// objects (webhook configurations, ClusterRoles) uniquely named and deleted afterwards.

export type { ControlPlane, KubectlResult } from './control-plane-admin.js';

/** Whole start, including unpacking, on a busy 2-core machine. */
export const CONTROL_PLANE_START_TIMEOUT_MS = 180_000;

export type ControlPlaneStatus = { available: true } | { available: false; required: boolean; reason: string };

function context(): ControlPlaneContext | undefined {
  // undefined when the globalSetup did not run, whatever ProvidedContext says
  const ctx: ControlPlaneContext | undefined = inject('rollguardControlPlane');
  return ctx;
}

export function controlPlaneStatus(): ControlPlaneStatus {
  const ctx = context();
  if (ctx === undefined) return { available: false, required: false, reason: 'the globalSetup test/support/control-plane-setup.ts is not registered in vitest.config.ts' };
  if (ctx.brokerUrl !== undefined) return { available: true };
  return { available: false, required: ctx.required, reason: ctx.unavailable ?? 'unknown' };
}

let facts: Promise<ControlPlaneFacts> | undefined;

async function fetchFacts(brokerUrl: string): Promise<ControlPlaneFacts> {
  const res = await fetch(brokerUrl, { method: 'POST', signal: AbortSignal.timeout(CONTROL_PLANE_START_TIMEOUT_MS) });
  const body = (await res.json()) as ControlPlaneFacts | { error: string };
  if ('error' in body) throw new Error(body.error);
  return body;
}

/** The run's control plane, started on first use; throws when there is none (see controlPlaneStatus). */
export async function controlPlane(): Promise<ControlPlane> {
  const ctx = context();
  if (ctx?.brokerUrl === undefined) {
    const status = controlPlaneStatus();
    throw new Error(`no Kubernetes control plane: ${status.available ? '' : status.reason}; ${ENABLE_HINT}`);
  }
  const brokerUrl = ctx.brokerUrl;
  facts ??= fetchFacts(brokerUrl);
  return adminControlPlane(await facts);
}

/** Prints the skip line once per run, whichever worker skips first. */
function noticeSkipOnce(ctx: ControlPlaneContext | undefined, reason: string): void {
  if (ctx !== undefined) {
    try {
      closeSync(openSync(join(ctx.runDir, 'control-plane-skip-notice'), 'wx'));
    } catch {
      return;
    }
  }
  process.stdout.write(`control-plane: tests needing Kubernetes skipped (${reason}) — to run them, ${ENABLE_HINT}\n`);
}

/**
 * A describe block needing the control plane: it is started (or joined) before the block's tests,
 * unless `start: false` (for blocks needing only the binaries). Without binaries the block is
 * skipped, or with CI=true it fails.
 */
export function describeWithControlPlane(name: string, fn: () => void, opts: { start?: boolean } = {}): void {
  const status = controlPlaneStatus();
  if (status.available) {
    describe(name, () => {
      if (opts.start !== false) {
        beforeAll(async () => {
          await controlPlane();
        }, CONTROL_PLANE_START_TIMEOUT_MS);
      }
      fn();
    });
    return;
  }
  if (status.required) {
    describe(name, () => {
      it('has the Kubernetes control plane it needs (CI=true)', () => {
        throw new Error(`CI=true but there is no Kubernetes control plane: ${status.reason}; ${ENABLE_HINT}`);
      });
      describe.skip('(not run)', fn);
    });
    return;
  }
  noticeSkipOnce(context(), status.reason);
  describe.skip(name, fn);
}

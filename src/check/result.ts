// What `rollguard check` reports: one line per check, ✓ passed, ✗ failed (with the fix), – skipped
// (with what would enable it), as text for people and JSON for scripts.

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a failure (or how to enable a skipped check). */
  fix?: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, status: 'pass', detail });
export const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'fail', detail, fix });
export const skip = (name: string, detail: string, fix?: string): CheckResult => ({ name, status: 'skip', detail, ...(fix === undefined ? {} : { fix }) });

/** Runs a check, turning an unexpected exception into its failure instead of ending the run. */
export async function guarded(name: string, fix: string, run: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await run();
  } catch (err) {
    return fail(name, err instanceof Error ? err.message : String(err), fix);
  }
}

const MARK: Record<CheckStatus, string> = { pass: '✓', fail: '✗', skip: '–' };

export function checksText(results: readonly CheckResult[]): string {
  const lines = results.flatMap((r) => [`${MARK[r.status]} ${r.name}: ${r.detail}`, ...(r.fix === undefined ? [] : [`    ${r.status === 'fail' ? 'fix' : 'to run it'}: ${r.fix}`])]);
  const failed = results.filter((r) => r.status === 'fail').length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  const passed = results.length - failed - skipped;
  return `${lines.join('\n')}\n\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`;
}

export function checksJson(results: readonly CheckResult[]): string {
  return `${JSON.stringify({ ok: results.every((r) => r.status !== 'fail'), checks: results }, null, 2)}\n`;
}

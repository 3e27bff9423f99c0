import { describe, expect, it } from 'vitest';
import { killStartedProcesses, startProcess } from './process.js';

describe('test processes', () => {
  it('killStartedProcesses ends every process still running, so a timed-out test leaves none behind', async () => {
    const procs = await Promise.all(['a', 'b'].map((name) => startProcess({ name, command: 'sleep', args: ['300'], ready: () => Promise.resolve(true) })));
    expect(procs.every((p) => p.running())).toBe(true);
    await killStartedProcesses();
    expect(procs.map((p) => p.running())).toEqual([false, false]);
    await killStartedProcesses();
  });
});

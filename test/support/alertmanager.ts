import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { assertLoopback, httpOk, startProcess, withFreePorts } from './process.js';

// Debian's prometheus-alertmanager on a free loopback port, clustering off, one route to a webhook
// receiver with second-scale grouping so a test sees notifications within a few seconds.

export interface AlertmanagerOptions {
  /** Where notifications are POSTed (loopback only); several: each notification goes to every one. */
  webhookUrl: string | readonly string[];
  groupBy?: readonly string[];
  groupWaitSeconds?: number;
  groupIntervalSeconds?: number;
  repeatIntervalSeconds?: number;
  sendResolved?: boolean;
  timeoutMs?: number;
}

export interface RunningAlertmanager {
  /** http://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT, for Prometheus' alerting config. */
  target: string;
  logTail: () => string;
  stop: () => Promise<void>;
}

export async function startAlertmanager(opts: AlertmanagerOptions): Promise<RunningAlertmanager> {
  const urls = typeof opts.webhookUrl === 'string' ? [opts.webhookUrl] : opts.webhookUrl;
  for (const url of urls) assertLoopback(url);
  const dir = await mkdtemp(join(tmpdir(), 'rollguard-alertmanager-'));
  try {
    const config = {
      route: {
        receiver: 'test',
        group_by: [...(opts.groupBy ?? ['alertname', 'namespace', 'service'])],
        group_wait: `${String(opts.groupWaitSeconds ?? 1)}s`,
        group_interval: `${String(opts.groupIntervalSeconds ?? 1)}s`,
        repeat_interval: `${String(opts.repeatIntervalSeconds ?? 3600)}s`,
      },
      receivers: [{ name: 'test', webhook_configs: urls.map((url) => ({ url, send_resolved: opts.sendResolved ?? true })) }],
    };
    const configFile = join(dir, 'alertmanager.yml');
    await writeFile(configFile, stringify(config));
    return await withFreePorts(1, async ([port = 0]) => {
      const p = await startProcess({
        name: 'prometheus-alertmanager',
        command: 'prometheus-alertmanager',
        args: [
          `--config.file=${configFile}`,
          `--storage.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          `--web.external-url=http://127.0.0.1:${port}/`,
          // Empty: no gossip listener at all (the default binds 0.0.0.0:9094).
          '--cluster.listen-address=',
        ],
        ready: () => httpOk(`http://127.0.0.1:${port}/-/ready`),
        timeoutMs: opts.timeoutMs ?? 30_000,
      });
      return {
        url: `http://127.0.0.1:${port}`,
        target: `127.0.0.1:${port}`,
        logTail: p.logTail,
        async stop() {
          await p.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

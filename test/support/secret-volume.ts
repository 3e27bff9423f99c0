import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

// A directory laid out and updated the way the kubelet updates a mounted Secret (its AtomicWriter):
// the data in a timestamped directory, `..data` a symlink to it, each visible file a symlink through
// `..data`. An update writes a new timestamped directory, points `..data_tmp` at it, renames
// `..data_tmp` over `..data` (one atomic step for every file) and removes the old directory.

export interface SecretVolume {
  dir: string;
  /** The visible path of a key, e.g. file('tls.crt'). */
  file(key: string): string;
  update(files: Record<string, string>): Promise<void>;
}

let sequence = 0;

function timestamped(): string {
  const iso = new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '');
  sequence++;
  return `..${iso}.${String(process.pid)}${String(sequence).padStart(6, '0')}`;
}

export async function secretVolume(dir: string, files: Record<string, string>): Promise<SecretVolume> {
  await mkdir(dir, { recursive: true });
  const volume: SecretVolume = {
    dir,
    file: (key) => join(dir, key),
    async update(next) {
      const target = timestamped();
      await mkdir(join(dir, target));
      for (const [key, text] of Object.entries(next)) await writeFile(join(dir, target, key), text, { mode: 0o600 });
      const old = await readlink(join(dir, '..data')).catch(() => undefined);
      await symlink(target, join(dir, '..data_tmp'));
      await rename(join(dir, '..data_tmp'), join(dir, '..data'));
      for (const key of Object.keys(next)) await symlink(join('..data', key), join(dir, key)).catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      });
      if (old !== undefined && old !== target) await rm(join(dir, old), { recursive: true, force: true });
    },
  };
  await volume.update(files);
  return volume;
}

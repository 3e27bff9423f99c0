import { keyOf } from './audit-bodies.js';
import type { ConfigRecord } from './audit-record.js';
import type { ConfigChange, ConfigCollectionDelete } from '../core/change-events.js';

// ConfigMap and Secret writes and deletes in an audit log, each with whether its content changed.
// Content is `unknown` whenever the log cannot tell: no body (Metadata level, F1), a patch of the
// content fields without the stored result, or no earlier content to compare with. F3: the records
// carry only a keyed digest of the content (see audit-content.ts), compared here for equality and
// never put in an event.

export class ConfigTracker {
  /** Last known content digest per object; undefined when unknown. */
  private readonly content = new Map<string, string | undefined>();

  constructor(private readonly emit: (e: ConfigChange | ConfigCollectionDelete) => void) {}

  handle(r: ConfigRecord): void {
    const kind = r.resource === 'secrets' ? 'Secret' : 'ConfigMap';
    if (r.subresource !== undefined) return;
    const key = `${kind}:${keyOf(r.namespace, r.name)}`;
    const base = { type: 'config-change', at: r.at, namespace: r.namespace, kind, name: r.name } as const;
    switch (r.verb) {
      case 'deletecollection':
        this.collection(r, kind);
        return;
      case 'delete':
        this.content.delete(key);
        this.emit({ ...base, action: 'delete', content: 'changed' });
        return;
      case 'create':
        this.content.set(key, r.digest);
        this.emit({ ...base, action: 'create', content: r.digest === undefined ? 'unknown' : 'changed' });
        return;
      case 'update':
      case 'patch':
        this.emit({ ...base, action: 'update', content: this.compare(key, r) });
        return;
    }
  }

  /** Every object it deleted, when the log tells which; otherwise any object of the kind may be gone (F1). */
  private collection(r: ConfigRecord, kind: 'ConfigMap' | 'Secret'): void {
    const names = r.collection?.names;
    if (names === undefined) {
      for (const key of [...this.content.keys()]) if (key.startsWith(`${kind}:${r.namespace}/`)) this.content.set(key, undefined);
      this.emit({ type: 'config-collection-delete', at: r.at, namespace: r.namespace, kind, selector: r.collection?.selector });
      return;
    }
    for (const name of names) this.handle({ ...r, verb: 'delete', name, collection: undefined });
  }

  private compare(key: string, r: ConfigRecord): ConfigChange['content'] {
    const previous = this.content.get(key);
    if (r.digest !== undefined) {
      this.content.set(key, r.digest);
      return previous === undefined ? 'unknown' : r.digest === previous ? 'unchanged' : 'changed';
    }
    if (r.verb === 'patch' && r.hasBody && !r.patchTouchesContent) return 'unchanged';
    this.content.set(key, undefined);
    return 'unknown';
  }
}

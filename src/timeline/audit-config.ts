import { keyOf } from './audit-bodies.js';
import type { ConfigCollectionRecord, ConfigRecord } from './audit-record.js';
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

  handle(r: ConfigRecord | ConfigCollectionRecord): void {
    const kind = r.resource === 'secrets' ? 'Secret' : 'ConfigMap';
    if ('collection' in r) {
      // Any object of the kind may be gone: what is known of their content is known no more.
      for (const key of [...this.content.keys()]) if (key.startsWith(`${kind}:${keyOf(r.namespace, '')}`)) this.content.delete(key);
      this.emit({ type: 'config-collection-delete', at: r.at, namespace: r.namespace, kind });
      return;
    }
    if (r.subresource !== undefined) return;
    const key = `${kind}:${keyOf(r.namespace, r.name)}`;
    const base = { type: 'config-change', at: r.at, namespace: r.namespace, kind, name: r.name } as const;
    switch (r.verb) {
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

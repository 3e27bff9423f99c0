import { hasNoBody, keyOf, patchBody, patchTouches, resultObject } from './audit-bodies.js';
import { CONTENT_PATHS, ContentFingerprints, type ContentBody } from './audit-content.js';
import type { TimedAuditEvent } from './audit-event.js';
import type { ConfigChange } from './events.js';

// ConfigMap and Secret writes and deletes in an audit log, each with whether its content changed.
// Content is `unknown` whenever the log cannot tell: no body (Metadata level, F1), a patch of the
// content fields without the stored result, or no earlier content to compare with. F3: a Secret's
// data is reduced to a keyed digest the moment it is read (see audit-content.ts); nothing of it is
// kept in the events.

type ConfigKind = ConfigChange['kind'];

export class ConfigTracker {
  private readonly fingerprints = new ContentFingerprints();
  /** Last known content digest per object; undefined when unknown. */
  private readonly content = new Map<string, string | undefined>();

  constructor(private readonly emit: (e: ConfigChange) => void) {}

  handle({ at, event: e }: TimedAuditEvent, kind: ConfigKind): void {
    const namespace = e.objectRef?.namespace;
    const name = e.objectRef?.name;
    if (namespace === undefined || name === undefined || e.objectRef?.subresource !== undefined) return;
    const key = `${kind}:${keyOf(namespace, name)}`;
    const base = { type: 'config-change', at, namespace, kind, name } as const;
    switch (e.verb) {
      case 'delete':
        this.content.delete(key);
        this.emit({ ...base, action: 'delete', content: 'changed' });
        return;
      case 'create': {
        const digest = this.digest(e);
        this.content.set(key, digest);
        this.emit({ ...base, action: 'create', content: digest === undefined ? 'unknown' : 'changed' });
        return;
      }
      case 'update':
      case 'patch': {
        this.emit({ ...base, action: 'update', content: this.compare(key, e) });
        return;
      }
    }
  }

  private digest(e: TimedAuditEvent['event']): string | undefined {
    const obj = resultObject(e);
    return obj === undefined ? undefined : this.fingerprints.of(obj as ContentBody);
  }

  private compare(key: string, e: TimedAuditEvent['event']): ConfigChange['content'] {
    const previous = this.content.get(key);
    const digest = this.digest(e);
    if (digest !== undefined) {
      this.content.set(key, digest);
      return previous === undefined ? 'unknown' : digest === previous ? 'unchanged' : 'changed';
    }
    const patch = patchBody(e);
    if (!hasNoBody(e) && patch !== undefined && !CONTENT_PATHS.some((path) => patchTouches(patch, path))) return 'unchanged';
    this.content.set(key, undefined);
    return 'unknown';
  }
}

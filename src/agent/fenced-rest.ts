import { KubeApiError, KubeRest, type RequestOptions } from '../kube/rest.js';
import type { KubeAccess } from '../kube/connection.js';

// The leader's own writes (rollbacks, decision records, their Events and annotations) go through
// this client: each is checked against the Lease right before it is sent, not only when the work
// that led to it began (F4). A replica paused past its renew deadline (SIGSTOP, a long GC, a node
// under pressure) may resume in the middle of an evaluation; a standby may already lead by then, so
// whatever the paused one was about to write is not written. A person's action (Apply as that
// person, Dismiss) may be taken on any replica and does not use this client.

/** The write was not sent: this replica no longer certainly holds the Lease. */
export class NotLeadingError extends KubeApiError {
  constructor(what: string) {
    super(0, 'NotLeading', `not written (${what}): this replica no longer certainly holds the Lease`);
  }
}

export function isNotLeading(err: unknown): err is NotLeadingError {
  return err instanceof NotLeadingError;
}

export class FencedRest extends KubeRest {
  constructor(
    access: KubeAccess,
    /** True while a write sent now surely lands before the Lease could pass to another replica. */
    private readonly leads: () => boolean,
  ) {
    super(access);
  }

  override request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts: RequestOptions & { contentType?: string } = {}): Promise<T> {
    if (method !== 'GET' && !this.leads()) return Promise.reject(new NotLeadingError(`${method} ${path}`));
    return super.request<T>(method, path, body, opts);
  }
}

import { createHash } from 'node:crypto';
import type { SlackIdentity } from '../../core/notifications-policy.js';
import { SlackError, type SlackApi } from './api.js';

// Who a Slack user is in Kubernetes (`notifications.slackUsers`): a key that is the user's id maps
// at once; otherwise each email key is resolved to a user id with users.lookupByEmail, one lookup
// at a time until one matches. Answers are kept (found ones longer than "no such user"), lookups
// are limited per minute below Slack's own limit for the method, and an app without the
// `users:read.email` scope is named as the cause instead of an unmapped user.

export const LOOKUP_SCOPE = 'users:read.email';

export type SlackUserMatch =
  | { ok: true; identity: SlackIdentity; key: string }
  | { ok: false; reason: 'unmapped' | 'missing-scope' | 'rate-limited' | 'lookup-failed'; message: string };

export interface SlackUserResolverOptions {
  api: Pick<SlackApi, 'lookupByEmail'>;
  clock: () => number;
  /** How long a found email → id is kept. */
  foundTtlMs?: number;
  /** How long "no Slack user has this email" is kept. */
  notFoundTtlMs?: number;
  /** Lookups per rolling minute, for every namespace together (Slack allows about 50). */
  maxLookupsPerMinute?: number;
}

interface Cached {
  id: string | undefined;
  until: number;
}

const isEmailKey = (key: string): boolean => key.includes('@');

export class SlackUserResolver {
  private readonly cache = new Map<string, Cached>();
  private readonly lookups: number[] = [];

  constructor(private readonly opts: SlackUserResolverOptions) {}

  /** `token` is read only when an email key has to be looked up. */
  async resolve(userId: string, slackUsers: Readonly<Record<string, SlackIdentity>>, token: () => Promise<string>): Promise<SlackUserMatch> {
    const direct = slackUsers[userId];
    if (direct !== undefined) return { ok: true, identity: direct, key: userId };
    const emails = Object.keys(slackUsers).filter(isEmailKey);
    const unmapped: SlackUserMatch = { ok: false, reason: 'unmapped', message: `Your Slack user ${userId} is not mapped to a Kubernetes identity in rollguard's policy (notifications.slackUsers), by id or by email, so nothing was done.` };
    if (emails.length === 0) return unmapped;
    let bot: string;
    try {
      bot = await token();
    } catch (err) {
      return { ok: false, reason: 'lookup-failed', message: `rollguard could not look up the email keys of notifications.slackUsers: the bot token cannot be read (${err instanceof Error ? err.message : String(err)}), so nothing was done.` };
    }
    // The cache is per workspace: keyed by a digest of the token, never the token itself (F3).
    const workspace = createHash('sha256').update(bot).digest('hex').slice(0, 16);
    for (const key of emails) {
      const id = await this.idOf(workspace, bot, key);
      if (typeof id === 'object') return id;
      if (id === userId) return { ok: true, identity: slackUsers[key] as SlackIdentity, key };
    }
    return unmapped;
  }

  /** The id of an email (undefined: no such user), or why it cannot be known now. */
  private async idOf(workspace: string, token: string, key: string): Promise<string | undefined | Extract<SlackUserMatch, { ok: false }>> {
    const email = key.toLowerCase();
    const now = this.opts.clock();
    const cached = this.cache.get(`${workspace}/${email}`);
    if (cached !== undefined && cached.until > now) return cached.id;
    while (this.lookups.length > 0 && (this.lookups[0] ?? 0) <= now - 60_000) this.lookups.shift();
    if (this.lookups.length >= (this.opts.maxLookupsPerMinute ?? 20)) {
      return { ok: false, reason: 'rate-limited', message: 'rollguard is still resolving the email keys of notifications.slackUsers (Slack limits how fast users.lookupByEmail may be called), so nothing was done yet: press the button again in a minute.' };
    }
    this.lookups.push(now);
    let id: string | undefined;
    try {
      id = await this.opts.api.lookupByEmail(token, email);
    } catch (err) {
      if (err instanceof SlackError && err.code === 'missing_scope') {
        return { ok: false, reason: 'missing-scope', message: `rollguard cannot look up the email keys of notifications.slackUsers: the Slack app lacks the ${LOOKUP_SCOPE} scope (add it and reinstall the app, or key notifications.slackUsers by Slack user id), so nothing was done.` };
      }
      return { ok: false, reason: 'lookup-failed', message: `rollguard could not look up the email keys of notifications.slackUsers (${err instanceof Error ? err.message : String(err)}), so nothing was done; press the button again later.` };
    }
    this.cache.set(`${workspace}/${email}`, { id, until: now + (id === undefined ? (this.opts.notFoundTtlMs ?? 5 * 60_000) : (this.opts.foundTtlMs ?? 60 * 60_000)) });
    return id;
  }
}

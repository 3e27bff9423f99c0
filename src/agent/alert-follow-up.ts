// An alert makes the leader evaluate the Deployments it names at once; the regression it reports
// may not be judgeable yet (R5's persistence, or scrapes still to come that place the onset), and
// Alertmanager sends again only at its repeat interval (hours by default). So while the alert
// fires, the Deployments it named are evaluated every metrics step as well, for up to the onset
// window, however long the agent's own interval is. A resolved notification ends the follow-up.

export class AlertFollowUp {
  private readonly until = new Map<string, number>();

  /** Follows `key` until `deadline` (epoch ms), or later if it is already followed for longer. */
  follow(key: string, deadline: number): void {
    this.until.set(key, Math.max(deadline, this.until.get(key) ?? 0));
  }

  stop(key: string): void {
    this.until.delete(key);
  }

  /** The keys still followed at `now`; those past their deadline are dropped. */
  due(now: number): string[] {
    for (const [key, deadline] of this.until) if (deadline < now) this.until.delete(key);
    return [...this.until.keys()];
  }
}

// Slack's limits (https://api.slack.com/reference/block-kit) and the text helpers that keep a
// message inside them. Lengths count UTF-16 code units, as Slack's own validation does for JSON.

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionField: 2000,
  sectionFields: 10,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** The top-level notification text; Slack truncates above 40 000, but a fallback should be short. */
  fallbackText: 3000,
} as const;

export const ELLIPSIS = '…';

/** Slack's mrkdwn needs only these three escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** At most `max` code units, ending in "…" when cut; never splits an escape or a surrogate pair. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let head = text.slice(0, Math.max(0, max - ELLIPSIS.length));
  head = head.replace(/&[a-z]{0,4}$/, '');
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return head + ELLIPSIS;
}

/**
 * Cuts the longest parts first so that prefix + part of every line, joined by newlines, fits in
 * `max`: short lines stay whole, long ones share what is left. Returns the lines and whether any
 * was cut (the caller then points to where the whole text is).
 */
export function fitLines(lines: readonly { prefix: string; text: string }[], max: number): { lines: string[]; cut: boolean } {
  const fixed = lines.reduce((n, l) => n + l.prefix.length, 0) + Math.max(0, lines.length - 1);
  const total = fixed + lines.reduce((n, l) => n + l.text.length, 0);
  if (total <= max) return { lines: lines.map((l) => l.prefix + l.text), cut: false };
  const budget = Math.max(0, max - fixed);
  // The largest per-line cap c with sum(min(len, c)) <= budget.
  const lengths = lines.map((l) => l.text.length).sort((a, b) => a - b);
  let cap = 0;
  let used = 0;
  for (let i = 0; i < lengths.length; i++) {
    const remaining = lengths.length - i;
    const len = lengths[i] ?? 0;
    if (used + len * remaining <= budget) {
      used += len;
      cap = len;
      continue;
    }
    cap = Math.floor((budget - used) / remaining);
    break;
  }
  return { lines: lines.map((l) => l.prefix + (l.text.length <= cap ? l.text : cut(l.text, Math.max(ELLIPSIS.length, cap)))), cut: true };
}

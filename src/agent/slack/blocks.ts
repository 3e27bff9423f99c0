import { CONDITION_KEYS, CONDITION_LABELS } from '../../core/decision-types.js';
import { formatInstant } from '../../core/duration.js';
import { splitSummary } from '../../core/revision-split.js';
import { describeBlastRadius, STATUS_MARK } from '../../render/decision-text.js';
import { handoffLines } from '../../render/handoff-text.js';
import type { DecisionRecord } from '../decision-record.js';
import { decisionUrl, isFinal, stateTitle } from '../decision-status.js';
import { cut, escapeMrkdwn, fitLines, SLACK_LIMITS as L } from './text.js';

// One decision as one Slack Block Kit message (R10): what happened in one line, every condition
// with its evidence, the command, blast radius, confidence, the link to the decision page, and
// Apply / Dismiss while it is open. Pure: the same record gives the same message, inside Slack's limits.

export type PlainText = { type: 'plain_text'; text: string; emoji?: boolean };
export type Mrkdwn = { type: 'mrkdwn'; text: string };
export type TextObject = PlainText | Mrkdwn;

export interface Button {
  type: 'button';
  action_id: string;
  text: PlainText;
  value?: string;
  url?: string;
  style?: 'primary' | 'danger';
  confirm?: { title: PlainText; text: PlainText; confirm: PlainText; deny: PlainText };
}

export type Block =
  | { type: 'header'; text: PlainText }
  | { type: 'section'; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'actions'; block_id: string; elements: Button[] };

export interface SlackMessage {
  /** The notification and accessibility text. */
  text: string;
  blocks: Block[];
}

/** The callbacks' action ids; every button's value is the decision id. */
export const SLACK_ACTIONS = { apply: 'rollguard_apply', dismiss: 'rollguard_dismiss', open: 'rollguard_open' } as const;

export interface MessageOptions {
  pageUrl?: string | undefined;
  /** Apply and Dismiss (a bot token with a signing secret to verify their callbacks). */
  buttons: boolean;
}

const HEADER_MARK: Record<string, string> = { open: '⚠️', 'rolled-back': '↩️', applied: '↩️', 'rollback-failed': '❌' };

const plain = (text: string, max: number): PlainText => ({ type: 'plain_text', text: cut(text, max), emoji: true });
const mrkdwn = (text: string, max: number = L.sectionText): Mrkdwn => ({ type: 'mrkdwn', text: cut(text, max) });

/** Slack renders this in the reader's time zone; the fallback is RFC 3339. */
function slackDate(ms: number): string {
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${formatInstant(ms)}>`;
}

function where(record: DecisionRecord, url: string | undefined, label: string): string {
  return url === undefined ? `${label}: GET /decisions/${record.id} on the agent` : `<${url}|${label}>`;
}

function conditionsBlock(record: DecisionRecord, url: string | undefined): Block {
  const more = `\n${where(record, url, 'Full evidence on the decision page')}`;
  const lines = CONDITION_KEYS.map((k) => {
    const c = record.decision.conditions[k];
    return { prefix: `${STATUS_MARK[c.status]} *${CONDITION_LABELS[k]}*: `, text: escapeMrkdwn(c.evidence) };
  });
  const whole = fitLines(lines, L.sectionText);
  if (!whole.cut) return { type: 'section', text: mrkdwn(whole.lines.join('\n')) };
  return { type: 'section', text: mrkdwn(fitLines(lines, L.sectionText - more.length).lines.join('\n') + more) };
}

/** The signal traced to the revisions: the 5xx share of the new pods against the older ones. */
function revisionBlock(record: DecisionRecord): Block | undefined {
  const split = record.decision.revisionSplit;
  return split === undefined ? undefined : { type: 'section', text: mrkdwn(`*Errors by revision*\n${escapeMrkdwn(splitSummary(split))}`) };
}

function commandBlock(record: DecisionRecord): Block {
  const command = record.decision.command;
  if (command === undefined) return { type: 'section', text: mrkdwn('*Command*: none, there is no previous revision to roll back to') };
  return { type: 'section', text: mrkdwn(`*Command*\n\`\`\`${escapeMrkdwn(command)}\`\`\``) };
}

function factsBlock(record: DecisionRecord): Block {
  const d = record.decision;
  const fields = [
    mrkdwn(`*Blast radius*\n${escapeMrkdwn(describeBlastRadius(d.blastRadius))}`, L.sectionField),
    mrkdwn(`*Confidence*\n${d.confidence.toFixed(2)}`, L.sectionField),
    mrkdwn(`*Service*\n${escapeMrkdwn(d.service)}`, L.sectionField),
  ];
  if (d.owner.kind !== 'none') fields.push(mrkdwn(`*Owner*\n${escapeMrkdwn(`${d.owner.kind}${d.owner.name === undefined ? '' : ` ${d.owner.name}`}`)}`, L.sectionField));
  return { type: 'section', fields };
}

function notesBlock(record: DecisionRecord, url: string | undefined): Block | undefined {
  const notes = record.decision.notes;
  if (notes.length === 0) return undefined;
  const more = `\n${where(record, url, 'All notes on the decision page')}`;
  const lines = notes.map((n) => ({ prefix: '• ', text: escapeMrkdwn(n) }));
  const whole = fitLines(lines, L.sectionText);
  const text = whole.cut ? fitLines(lines, L.sectionText - more.length).lines.join('\n') + more : whole.lines.join('\n');
  return { type: 'section', text: mrkdwn(text) };
}

/** R9: after rollguard's own rollback, what the on-call engineer takes over. */
function handoffBlock(record: DecisionRecord, url: string | undefined): Block | undefined {
  const h = record.handoff?.latest;
  if (h === undefined) return undefined;
  const [, ...rest] = handoffLines(h);
  const head = `*Handoff*: error rate ${h.recovery.status}; assessment ${h.assessment.kind}${h.settled ? ' (settled)' : ''}`;
  const more = `\n${where(record, url, 'The graph and the whole handoff on the decision page')}`;
  const lines = rest.map((l) => ({ prefix: '• ', text: escapeMrkdwn(l) }));
  const budget = L.sectionText - head.length - 1 - more.length;
  return { type: 'section', text: mrkdwn(`${head}\n${fitLines(lines, budget).lines.join('\n')}${more}`) };
}

function contextBlock(record: DecisionRecord, url: string | undefined): Block {
  return {
    type: 'context',
    elements: [
      mrkdwn(url === undefined ? `Decision \`${record.id}\` (GET /decisions/${record.id} on the agent)` : `Decision <${url}|${record.id}>`, L.contextText),
      mrkdwn(`first decided ${slackDate(record.firstDecidedAt)}`, L.contextText),
    ],
  };
}

function actionsBlock(record: DecisionRecord, url: string | undefined, buttons: boolean): Block | undefined {
  const elements: Button[] = [];
  const target = `${record.namespace}/${record.deployment}`;
  if (buttons && record.decision.command !== undefined) {
    elements.push({
      type: 'button',
      action_id: SLACK_ACTIONS.apply,
      text: plain('Apply rollback', L.buttonText),
      value: record.id,
      style: 'primary',
      confirm: {
        title: plain('Roll back?', L.confirmTitle),
        text: plain(`Roll back ${target} as yourself? rollguard first checks that you may patch it.`, L.confirmText),
        confirm: plain('Roll back', L.confirmButton),
        deny: plain('Cancel', L.confirmButton),
      },
    });
  }
  if (buttons) elements.push({ type: 'button', action_id: SLACK_ACTIONS.dismiss, text: plain('Dismiss', L.buttonText), value: record.id });
  if (buttons && url !== undefined) elements.push({ type: 'button', action_id: SLACK_ACTIONS.open, text: plain('Open decision page', L.buttonText), value: record.id, url });
  return elements.length === 0 ? undefined : { type: 'actions', block_id: `rollguard_decision_${record.id}`.slice(0, L.blockId), elements };
}

/** The summary without the verdict it starts with (the message states the verdict itself). */
function why(d: DecisionRecord['decision']): string {
  const lead = `${d.verdict}: `;
  return d.summary.startsWith(lead) ? d.summary.slice(lead.length) : d.summary;
}

export function decisionMessage(record: DecisionRecord, opts: MessageOptions): SlackMessage {
  const d = record.decision;
  const url = decisionUrl(opts.pageUrl, record.id);
  const title = stateTitle(record);
  const target = `${record.namespace}/${record.deployment}`;
  const final = isFinal(record);
  const blocks: (Block | undefined)[] = [
    { type: 'header', text: plain(`${HEADER_MARK[record.state] ?? 'ℹ️'} ${title}: ${target}`, L.headerText) },
    { type: 'section', text: mrkdwn(`*${d.verdict.toUpperCase()}*: ${escapeMrkdwn(why(d))}`) },
    final ? { type: 'section', text: mrkdwn(`*${title}*${record.stateReason === undefined ? '' : `: ${escapeMrkdwn(record.stateReason)}`}`) } : undefined,
    handoffBlock(record, url),
    revisionBlock(record),
    conditionsBlock(record, url),
    commandBlock(record),
    factsBlock(record),
    notesBlock(record, url),
    contextBlock(record, url),
    final ? undefined : actionsBlock(record, url, opts.buttons),
  ];
  return {
    text: cut(escapeMrkdwn(`${title}: ${target}: ${why(d)}`), L.fallbackText),
    blocks: blocks.filter((b): b is Block => b !== undefined).slice(0, L.blocks),
  };
}

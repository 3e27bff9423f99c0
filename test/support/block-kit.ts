// What Slack's API rejects as `invalid_blocks` for the block types rollguard sends, written from
// the Block Kit reference, independently of src/agent/slack: structure, known types, the lengths
// and counts, unique action ids. Returns one problem per line, empty when valid.

const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  sectionField: 2000,
  sectionFields: 10,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  id: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
};

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(where: string, v: unknown, max: number, kinds: readonly string[], out: string[]): void {
  if (!isObject(v)) {
    out.push(`${where}: a text object is required`);
    return;
  }
  if (typeof v.type !== 'string' || !kinds.includes(v.type)) out.push(`${where}.type must be ${kinds.join(' or ')}`);
  if (typeof v.text !== 'string' || v.text.length === 0) out.push(`${where}.text must be a non-empty string`);
  else if (v.text.length > max) out.push(`${where}.text is ${v.text.length} characters, more than ${max}`);
}

function button(where: string, b: Json, ids: Set<string>, out: string[]): void {
  text(`${where}.text`, b.text, LIMITS.buttonText, ['plain_text'], out);
  if (typeof b.action_id !== 'string' || b.action_id.length === 0 || b.action_id.length > LIMITS.id) out.push(`${where}.action_id must be 1..${LIMITS.id} characters`);
  else if (ids.has(b.action_id)) out.push(`${where}.action_id ${b.action_id} is not unique`);
  else ids.add(b.action_id);
  if (b.value !== undefined && (typeof b.value !== 'string' || b.value.length > LIMITS.buttonValue)) out.push(`${where}.value must be a string of at most ${LIMITS.buttonValue}`);
  if (b.url !== undefined && (typeof b.url !== 'string' || b.url.length > LIMITS.buttonUrl || !/^https?:\/\//.test(b.url))) out.push(`${where}.url must be an http(s) URL of at most ${LIMITS.buttonUrl}`);
  if (b.style !== undefined && b.style !== 'primary' && b.style !== 'danger') out.push(`${where}.style must be primary or danger`);
  if (b.confirm !== undefined) {
    const c = b.confirm as Json;
    text(`${where}.confirm.title`, c.title, LIMITS.confirmTitle, ['plain_text'], out);
    text(`${where}.confirm.text`, c.text, LIMITS.confirmText, ['plain_text', 'mrkdwn'], out);
    text(`${where}.confirm.confirm`, c.confirm, LIMITS.confirmButton, ['plain_text'], out);
    text(`${where}.confirm.deny`, c.deny, LIMITS.confirmButton, ['plain_text'], out);
  }
}

function block(where: string, b: Json, ids: Set<string>, out: string[]): void {
  if (b.block_id !== undefined && (typeof b.block_id !== 'string' || b.block_id.length > LIMITS.id)) out.push(`${where}.block_id must be at most ${LIMITS.id} characters`);
  switch (b.type) {
    case 'header':
      text(`${where}.text`, b.text, LIMITS.headerText, ['plain_text'], out);
      return;
    case 'divider':
      return;
    case 'section': {
      if (b.text === undefined && b.fields === undefined) out.push(`${where}: a section needs text or fields`);
      if (b.text !== undefined) text(`${where}.text`, b.text, LIMITS.sectionText, ['plain_text', 'mrkdwn'], out);
      if (b.fields !== undefined) {
        if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > LIMITS.sectionFields) out.push(`${where}.fields must hold 1..${LIMITS.sectionFields}`);
        else b.fields.forEach((f, i) => { text(`${where}.fields[${i}]`, f, LIMITS.sectionField, ['plain_text', 'mrkdwn'], out); });
      }
      return;
    }
    case 'context': {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.contextElements) out.push(`${where}.elements must hold 1..${LIMITS.contextElements}`);
      else b.elements.forEach((e, i) => { text(`${where}.elements[${i}]`, e, LIMITS.sectionText, ['plain_text', 'mrkdwn'], out); });
      return;
    }
    case 'actions': {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.actionsElements) out.push(`${where}.elements must hold 1..${LIMITS.actionsElements}`);
      else
        b.elements.forEach((e, i) => {
          if (!isObject(e) || e.type !== 'button') out.push(`${where}.elements[${i}] must be a button`);
          else button(`${where}.elements[${i}]`, e, ids, out);
        });
      return;
    }
    default:
      out.push(`${where}.type ${JSON.stringify(b.type)} is not a known block type`);
  }
}

export function blockKitProblems(blocks: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  if (blocks.length > LIMITS.blocks) out.push(`${blocks.length} blocks, more than ${LIMITS.blocks}`);
  const ids = new Set<string>();
  blocks.forEach((b, i) => {
    if (!isObject(b)) out.push(`blocks[${i}] must be an object`);
    else block(`blocks[${i}]`, b, ids, out);
  });
  return out;
}

/** Every interactive element (buttons) in a message. */
export function buttonsOf(blocks: unknown): Json[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.filter((b): b is Json => isObject(b) && b.type === 'actions').flatMap((b) => (Array.isArray(b.elements) ? b.elements.filter(isObject) : []));
}

// Everything that reaches the page from a log, a metric label or an object name is escaped: a
// Deployment or ConfigMap name cannot inject markup into an SRE's browser.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Tagged template: interpolated values are escaped, literal parts are not. Use `raw()` for markup already built. */
export function html(strings: TemplateStringsArray, ...values: readonly (string | number | Raw | undefined)[]): Raw {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += v === undefined ? '' : v instanceof Raw ? v.value : escapeHtml(String(v));
    out += strings[i + 1] ?? '';
  });
  return new Raw(out);
}

export class Raw {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function raw(markup: string): Raw {
  return new Raw(markup);
}

export function join(parts: readonly Raw[], separator = ''): Raw {
  return new Raw(parts.map((p) => p.value).join(separator));
}

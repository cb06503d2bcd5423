/** Markup that is already safe: produced by `html` or by code that escaped every part of it. */
export class SafeHtml {
  /** The markup. */
  readonly value: string;

  /** Wraps markup the caller vouches for. */
  constructor(value: string) {
    this.value = value;
  }

  /** The markup, so a SafeHtml can be sent as is. */
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an HTML element or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

type Part = SafeHtml | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part instanceof SafeHtml) return part.value;
  if (part === null || part === undefined || part === false || part === true) return '';
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

/**
 * A template tag that escapes every interpolated value unless it is SafeHtml: strings from Twilio or from
 * a request cannot become markup by forgetting to escape them. Arrays are joined; null, undefined and
 * booleans render nothing (so `cond && html\`…\`` works).
 */
export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

// HTML escaping for the dashboard (README "Dashboard"). Every string a page shows that came from the
// database, an agent, an inventory or a manifest goes through here: host names are plain by rule,
// but problem messages, smoke output, deployment reasons, distro names and manifests are whatever
// a host or a build wrote. Pages are built with the `html` tag, which escapes every interpolated
// value unless it is markup this module made (Html), so forgetting to escape takes an effort.

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text safe in element content and in a quoted attribute value. C0 controls (but tab and line feed)
 * and DEL become U+FFFD: the HTML parser reports most as errors and a title would show them raw.
 */
export function escapeHtml(text: string): string {
  // eslint-disable-next-line no-control-regex -- the control characters are what it replaces
  return text.replace(/[&<>"']|[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => ENTITIES[c] ?? '\ufffd');
}

/** Markup made by this module (an `html` template or escapeHtml's output): inserted as is. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

/** What a template takes: text (escaped), numbers, markup, nothing (null, undefined, false), or lists of them. */
export type HtmlValue = string | number | Html | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.markup;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  return escapeHtml(String(value));
}

/** A tagged template: html`<td title="${reason}">${name}</td>` escapes reason and name. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** A path segment of a link (a host name, a digest): percent-encoded, then escaped for the attribute. */
export function urlSegment(text: string): string {
  return escapeHtml(encodeURIComponent(text));
}

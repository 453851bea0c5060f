/**
 * Text for people: sizes, dates, snippets of Zenodo's HTML.
 */

/**
 * A size in bytes for people: `0 B`, `812 B`, `1.3 kB`, `5.2 MB` (SI units,
 * as Zenodo shows them).
 */
export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '';
  }
  if (bytes < 1000) {
    return `${bytes} B`;
  }
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 'B';
  for (const next of units) {
    value /= 1000;
    unit = next;
    if (value < 1000) {
      break;
    }
  }
  const digits = value < 10 ? 1 : 0;
  return `${value.toFixed(digits)} ${unit}`;
}

/**
 * The plain text of a piece of (untrusted) HTML, e.g. for a snippet.
 *
 * A document made by `DOMParser` is inert: no script runs and nothing loads.
 */
export function htmlToText(html: string): string {
  if (!html) {
    return '';
  }
  if (!/[<&]/.test(html)) {
    return html;
  }
  const doc = new DOMParser().parseFromString(html, 'text/html');
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * At most `max` characters of `text`, cut at a word, with an ellipsis.
 */
export function snippet(text: string, max = 160): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean.length <= max) {
    return clean;
  }
  const cut = clean.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).replace(/\s+$/, '')}…`;
}

/**
 * A date as `YYYY-MM-DD` stays as it is; a date-time becomes a local one.
 */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) {
    return '';
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    return value;
  }
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}

/**
 * The host of a URL (`zenodo.org`), else `fallback` (the URL itself by default).
 */
export function hostOf(url: string, fallback?: string): string {
  try {
    return new URL(url).host;
  } catch {
    return fallback ?? url;
  }
}

/**
 * Small DOM helpers of the Zenodo panel.
 *
 * Text always goes in through `textContent`; the only HTML that reaches the
 * DOM is a record description, after Lab's sanitizer (see `details.ts`).
 */

export type Child = Node | string | null | undefined | false;

export interface IProps {
  /** CSS classes (space separated). */
  className?: string;
  /** `data-testid`, for tests. */
  testid?: string;
  /** Tooltip. */
  title?: string;
  /** Other attributes; `undefined` values are left out. */
  attrs?: Record<string, string | undefined>;
  /** Click handler. */
  onClick?: (event: MouseEvent) => void;
}

/**
 * Create an element with properties and children (strings become text nodes).
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: IProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) {
    node.className = props.className;
  }
  if (props.testid) {
    node.dataset.testid = props.testid;
  }
  if (props.title) {
    node.title = props.title;
  }
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined) {
      node.setAttribute(name, value);
    }
  }
  if (props.onClick) {
    node.addEventListener('click', props.onClick as EventListener);
  }
  append(node, ...children);
  return node;
}

/**
 * Append children, skipping empty ones.
 */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.appendChild(
      typeof child === 'string' ? document.createTextNode(child) : child
    );
  }
}

/**
 * A button (never a form submit unless asked).
 */
export function button(
  label: string,
  props: IProps & { primary?: boolean; submit?: boolean; disabled?: boolean } = {}
): HTMLButtonElement {
  const classes = ['mz-zenodo-button', 'jp-Button'];
  if (props.primary) {
    classes.push('mz-mod-primary');
  }
  if (props.className) {
    classes.push(props.className);
  }
  const node = h('button', { ...props, className: classes.join(' ') }, label);
  node.type = props.submit ? 'submit' : 'button';
  node.disabled = !!props.disabled;
  return node;
}

/**
 * A link that opens outside Lab, in a new tab, without giving that tab a
 * handle on this one.
 */
export function externalLink(
  href: string,
  text: string,
  props: IProps = {}
): HTMLAnchorElement {
  const link = h('a', props, text);
  if (isWebUrl(href)) {
    link.href = href;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
  }
  return link;
}

/**
 * Whether `url` is an http(s) URL (never `javascript:` and the like).
 */
export function isWebUrl(url: string | null | undefined): url is string {
  if (!url) {
    return false;
  }
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:';
  } catch {
    return false;
  }
}

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
 * A spinner with a label (for screen readers too).
 */
export function spinner(label: string, testid = 'mz-zenodo-spinner'): HTMLElement {
  return h(
    'div',
    {
      className: 'mz-zenodo-loading',
      testid,
      attrs: { role: 'status', 'aria-live': 'polite' }
    },
    h('span', { className: 'mz-zenodo-spinner', attrs: { 'aria-hidden': 'true' } }),
    h('span', { className: 'mz-zenodo-loading-label' }, label)
  );
}

/**
 * A progress bar: `fraction` in [0, 1].
 */
export function progressBar(
  fraction: number,
  label: string,
  props: IProps = {}
): HTMLElement {
  const percent = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  const fill = h('div', { className: 'mz-zenodo-progress-fill' });
  fill.style.width = `${percent}%`;
  return h(
    'div',
    {
      ...props,
      className: `mz-zenodo-progress ${props.className ?? ''}`.trim(),
      attrs: {
        role: 'progressbar',
        'aria-valuemin': '0',
        'aria-valuemax': '100',
        'aria-valuenow': String(percent),
        'aria-label': label,
        ...(props.attrs ?? {})
      }
    },
    fill
  );
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

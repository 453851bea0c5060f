/**
 * The DOM helpers of both panels.
 *
 * Text always goes in through `textContent`; the only HTML that reaches the
 * DOM is a record description, after Lab's sanitizer (see `zenodo/details.ts`).
 *
 * Class names follow one scheme: `mz-Component` and `mz-Component-part`, with
 * `mz-mod-<state>` for states.
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
  const classes = ['mz-Button', 'jp-Button'];
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
 * A small "✕" button; `label` is its tooltip and accessible name.
 */
export function closeButton(label: string, props: IProps = {}): HTMLButtonElement {
  return h(
    'button',
    {
      ...props,
      className: `mz-IconButton ${props.className ?? ''}`.trim(),
      title: label,
      attrs: { type: 'button', 'aria-label': label, ...(props.attrs ?? {}) }
    },
    '✕'
  );
}

/**
 * A link that opens outside Lab, in a new tab, without giving that tab a
 * handle on this one. Only http(s) URLs become links.
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
 * A spinner with a label (for screen readers too).
 */
export function spinner(label: string, testid = 'mz-zenodo-spinner'): HTMLElement {
  return h(
    'div',
    {
      className: 'mz-Spinner',
      testid,
      attrs: { role: 'status', 'aria-live': 'polite' }
    },
    h('span', { className: 'mz-Spinner-icon', attrs: { 'aria-hidden': 'true' } }),
    h('span', { className: 'mz-Spinner-label' }, label)
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
  const fill = h('div', { className: 'mz-ProgressBar-fill' });
  fill.style.width = `${percent}%`;
  return h(
    'div',
    {
      ...props,
      className: `mz-ProgressBar ${props.className ?? ''}`.trim(),
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
 * A `<select>` of `[value, text]` options.
 */
export function select(
  options: ReadonlyArray<readonly [string, string]>,
  props: IProps = {}
): HTMLSelectElement {
  const node = h('select', {
    ...props,
    className: `mz-Form-select ${props.className ?? ''}`.trim()
  });
  for (const [value, text] of options) {
    const option = h('option', {}, text);
    option.value = value;
    node.append(option);
  }
  return node;
}

/**
 * Run `action` on a click, Enter or Space: for rows and cards that act as buttons.
 */
export function onActivate(node: HTMLElement, action: () => void): void {
  node.addEventListener('click', action);
  node.addEventListener('keydown', event => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      action();
    }
  });
}

/**
 * One view per item of a changing list (a tray's cards per job): `sync` makes the
 * views of new items, disposes those of items gone, and gives the nodes in order.
 */
export class ViewSet<T, V extends { readonly node: HTMLElement; dispose(): void }> {
  constructor(private readonly _make: (item: T) => V) {}

  sync(items: readonly T[]): HTMLElement[] {
    for (const [item, view] of [...this._views]) {
      if (!items.includes(item)) {
        view.dispose();
        this._views.delete(item);
      }
    }
    return items.map(item => {
      let view = this._views.get(item);
      if (!view) {
        view = this._make(item);
        this._views.set(item, view);
      }
      return view.node;
    });
  }

  dispose(): void {
    for (const view of this._views.values()) {
      view.dispose();
    }
    this._views.clear();
  }

  private _views = new Map<T, V>();
}

import { TranslationBundle } from '@jupyterlab/translation';

import { Child, externalLink, h, select } from '../dom';
import { IPrepared } from './api';
import { defaultLicense, LICENSE_ALIASES, LICENSES } from './vocabulary';

let counter = 0;
export function uid(name: string): string {
  return `mz-publish-${name}-${++counter}`;
}

export function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
}

export function input(testid: string, value: string, attrs: Record<string, string | undefined> = {}) {
  const node = h('input', {
    className: 'mz-Form-input',
    testid,
    attrs: { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs }
  });
  node.value = value;
  return node;
}

export function present(children: Child[]): (Node | string)[] {
  return children.filter((c): c is Node | string => !!c);
}

export function errorSlot(field: string): HTMLElement {
  const node = h('div', {
    className: 'mz-PublishDialog-error',
    testid: 'mz-publish-error',
    attrs: { 'data-field': field, role: 'alert' }
  });
  node.hidden = true;
  return node;
}

/**
 * The parent of a form path: `creators[1].orcid` → `creators[1]` → `creators` → ``.
 */
export function parentField(field: string): string {
  if (field.endsWith(']')) {
    return field.slice(0, field.lastIndexOf('['));
  }
  const dot = field.lastIndexOf('.');
  return dot > 0 ? field.slice(0, dot) : '';
}

/**
 * What the form says of an earlier publication of the folder.
 */
export function previousContent(trans: TranslationBundle, prepared: IPrepared): Child[] {
  const previous = prepared.previous;
  const publishing = prepared.publishing;
  if (!previous) {
    return publishing
      ? [trans.__('A publication of this folder was started and not finished: this one goes on with its draft.')]
      : [];
  }
  const what = previous.doi || previous.url || previous.record_id;
  const head =
    previous.state === 'draft'
      ? trans.__('A draft of this folder is on Zenodo (%1): publishing goes on with it.', what)
      : previous.version
        ? trans.__('Published before as %1 (version %2)', what, previous.version)
        : trans.__('Published before as %1', what);
  return [
    h('span', { testid: 'mz-publish-previous-text' }, head),
    previous.url ? ' ' : null,
    previous.url
      ? externalLink(previous.url, trans.__('Open on Zenodo'), { testid: 'mz-publish-previous-link' })
      : null,
    previous.draft
      ? h(
          'div',
          {},
          trans.__('A new version is waiting as a draft on Zenodo: publishing goes on with it.')
        )
      : null
  ];
}

/**
 * The license field: a filter over the licenses and their list. The license
 * follows the resource type until the user chooses one.
 */
export class LicenseField {
  constructor(trans: TranslationBundle, given: unknown, type: string) {
    this._trans = trans;
    this._licenseTouched = !!text(given);
    this.filter = h('input', {
      className: 'mz-Form-input mz-PublishDialog-licenseFilter',
      testid: 'mz-publish-license-filter',
      attrs: {
        type: 'search',
        placeholder: trans.__('Search licenses'),
        'aria-label': trans.__('Search licenses')
      }
    });
    this.select = select([], { testid: 'mz-publish-license', attrs: { id: uid('license') } });
    const license = text(given).toLowerCase();
    this._licenseValue = LICENSE_ALIASES[license] ?? license;
    if (!this._licenseValue) {
      this._licenseValue = defaultLicense(type);
    }
    this.filter.addEventListener('input', () => this._render());
    this.select.addEventListener('change', () => {
      this._licenseValue = this.select.value;
      this._licenseTouched = true;
    });
    this._render();
  }

  /** The filter over the licenses. */
  readonly filter: HTMLInputElement;

  /** The licenses (those the filter lets through, and the one chosen). */
  readonly select: HTMLSelectElement;

  /** The license chosen. */
  get value(): string {
    return this.select.value;
  }

  /** The resource type changed: its default license, unless the user chose one. */
  typeChanged(type: string): void {
    if (!this._licenseTouched) {
      this._licenseValue = defaultLicense(type);
      this._render();
    }
  }

  private _render(): void {
    const trans = this._trans;
    const filter = this.filter.value.trim().toLowerCase();
    const current = this._licenseValue;
    const choices: [string, string][] = LICENSES.map(([id, title]) => [id, `${title} (${id})`]);
    if (current && !choices.some(([id]) => id === current)) {
      choices.unshift([current, current]);
    }
    choices.unshift(['', trans.__('No license')]);
    const shown = choices.filter(
      ([id, title]) => id === current || !filter || `${id} ${title}`.toLowerCase().includes(filter)
    );
    this.select.replaceChildren(
      ...shown.map(([id, title]) => {
        const option = h('option', {}, title);
        option.value = id;
        return option;
      })
    );
    this.select.value = current;
  }

  private _trans: TranslationBundle;
  private _licenseValue: string;
  private _licenseTouched: boolean;
}

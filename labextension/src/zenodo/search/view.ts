import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { button, closeButton, h, select, spinner } from '../../dom';
import { errorBox } from '../../feedback';
import { IZenodoContext } from '../../tokens';
import { IVocabulary } from '../api';
import { RecordDetailsView } from '../details';
import { describeFailure } from '../failure';
import { hostOf } from '../format';
import { PullTray } from '../pulls/tray';
import { SearchModel, SearchResult, Scope } from './model';
import { renderPager } from './pager';
import { renderCommunities, renderCount, renderRecords } from './results';

/** Idle time after typing before searching. */
const DEBOUNCE_MS = 500;

/**
 * The Search view: one box over records or communities, filters, results
 * with paging, a community drill-down, record details; and, at the bottom,
 * the downloads tray. What is searched and found is in a `SearchModel`.
 */
export class SearchView extends Widget {
  constructor(context: IZenodoContext) {
    super();
    this.addClass('mz-ZenodoSearch');
    this.node.dataset.testid = 'mz-zenodo-search';
    this._context = context;
    const trans = (this._trans = context.translator.load('mesh_zenodo'));
    this.model = new SearchModel(context.api, context.model, context.settings);

    // -- the box and its switches
    this._input = h('input', {
      className: 'mz-Form-input mz-ZenodoSearch-query',
      testid: 'mz-zenodo-query',
      attrs: {
        type: 'search',
        placeholder: trans.__('e.g. title:"climate" AND creators.name:Smith'),
        'aria-label': trans.__('Search Zenodo'),
        spellcheck: 'false',
        autocomplete: 'off'
      }
    });
    this._input.addEventListener('input', () => this._onTyping());
    this._input.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this._applyQuery();
      }
    });

    this._scopeButtons = {
      records: this._scopeButton('records', trans.__('Records')),
      communities: this._scopeButton('communities', trans.__('Communities'))
    };
    const scope = h(
      'div',
      {
        className: 'mz-Switch',
        testid: 'mz-zenodo-scope',
        attrs: { role: 'group', 'aria-label': trans.__('Search in') }
      },
      this._scopeButtons.records,
      this._scopeButtons.communities
    );

    // the choices come from the server's vocabulary (see `_renderChoices`)
    this._type = select([['', trans.__('All types')]], {
      testid: 'mz-zenodo-type',
      attrs: { 'aria-label': trans.__('Resource type') }
    });
    this._type.addEventListener('change', () => this.model.setType(this._type.value));
    this._sort = select([], {
      testid: 'mz-zenodo-sort',
      attrs: { 'aria-label': trans.__('Sort') }
    });
    this._sortLabels = {
      bestmatch: trans.__('Best match'),
      '-bestmatch': trans.__('Least relevant first'),
      mostrecent: trans.__('Most recent'),
      '-mostrecent': trans.__('Least recent'),
      newest: trans.__('Newest'),
      oldest: trans.__('Oldest'),
      'updated-desc': trans.__('Recently updated'),
      'updated-asc': trans.__('Least recently updated')
    };
    this._sort.addEventListener('change', () => this.model.setSort(this._sort.value));
    const labelled = (text: string, control: HTMLElement) =>
      h(
        'label',
        { className: 'mz-ZenodoSearch-filter' },
        h('span', { className: 'mz-Form-label' }, text),
        control
      );
    this._typeFilter = labelled(trans.__('Type'), this._type);
    this._filters = h(
      'div',
      { className: 'mz-ZenodoSearch-filters', testid: 'mz-zenodo-filters' },
      this._typeFilter,
      labelled(trans.__('Sort'), this._sort)
    );
    this._target = h('div', { className: 'mz-ZenodoSearch-target', testid: 'mz-zenodo-target' });

    this._banner = h('div', {
      className: 'mz-ZenodoSearch-banner',
      testid: 'mz-zenodo-community-banner',
      attrs: { role: 'status' }
    });
    this._banner.hidden = true;

    // -- the results
    this._summary = h('div', { className: 'mz-ZenodoSearch-summary', testid: 'mz-zenodo-summary' });
    this._results = h('div', {
      className: 'mz-ZenodoSearch-results',
      attrs: { 'aria-live': 'polite' }
    });
    this._pager = h('nav', {
      className: 'mz-Pager',
      testid: 'mz-zenodo-pager',
      attrs: { 'aria-label': trans.__('Result pages') }
    });

    this._listPage = h(
      'div',
      { className: 'mz-ZenodoSearch-listPage', testid: 'mz-zenodo-list-page' },
      h('div', { className: 'mz-ZenodoSearch-bar' }, scope, this._input, this._filters, this._target),
      this._banner,
      this._summary,
      this._results,
      this._pager
    );
    this._detailsPage = h('div', { className: 'mz-ZenodoSearch-detailsPage' });
    this._detailsPage.hidden = true;

    this._tray = new PullTray(context.pulls, trans);
    this._main = h('div', { className: 'mz-ZenodoSearch-main' }, this._listPage, this._detailsPage);
    this.node.append(this._main, this._tray.node);

    this.model.changed.connect(this._render, this);
    this._render();
  }

  /** What is searched and found. */
  readonly model: SearchModel;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this._tray.dispose();
    window.clearTimeout(this._timer);
    super.dispose();
  }

  /**
   * Show the details of a record (also used by tests and commands).
   */
  openRecord(id: number | string): void {
    const view = new RecordDetailsView(this._context, id, this._context.model.baseUrl, () =>
      this._closeDetails()
    );
    this._details = view;
    this._detailsPage.replaceChildren(view.node);
    this._listPage.hidden = true;
    this._detailsPage.hidden = false;
    this._main.scrollTop = 0;
    view.focus();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    this.model.start();
  }

  private _closeDetails(): void {
    this._details = null;
    this._detailsPage.hidden = true;
    this._detailsPage.replaceChildren();
    this._listPage.hidden = false;
    const row = this._lastOpened
      ? this._results.querySelector<HTMLElement>(`[data-record-id="${CSS.escape(this._lastOpened)}"]`)
      : null;
    (row ?? this._input).focus();
  }

  private _scopeButton(scope: Scope, label: string): HTMLButtonElement {
    return button(label, {
      className: 'mz-Switch-option',
      testid: `mz-zenodo-scope-${scope}`,
      attrs: { 'aria-pressed': String(scope === 'records') },
      onClick: () => {
        if (this._details) {
          this._closeDetails();
        }
        this.model.setScope(scope);
      }
    });
  }

  private _onTyping(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => this._applyQuery(), DEBOUNCE_MS);
  }

  private _applyQuery(): void {
    window.clearTimeout(this._timer);
    this.model.setQuery(this._input.value);
  }

  private _render(): void {
    this._renderControls();
    const model = this.model;
    if (model.loading) {
      this.node.dataset.loading = 'true';
      this._summary.replaceChildren(spinner(this._trans.__('Searching…')));
      this._results.classList.add('mz-mod-stale');
      return;
    }
    delete this.node.dataset.loading;
    this._results.classList.remove('mz-mod-stale');
    if (model.failure) {
      const retry = button(this._trans.__('Try again'), {
        className: 'mz-ZenodoSearch-retry',
        testid: 'mz-zenodo-retry',
        onClick: () => void model.search()
      });
      this._summary.replaceChildren(
        errorBox(describeFailure(model.failure, this._trans), {
          testid: 'mz-zenodo-search-error',
          extra: [retry]
        })
      );
      this._results.replaceChildren();
      this._pager.replaceChildren();
      this._shown = null;
    } else if (model.result && model.result !== this._shown) {
      this._showResult(model.result);
    }
  }

  private _showResult(result: SearchResult): void {
    const trans = this._trans;
    const model = this.model;
    this._shown = result;
    this._summary.replaceChildren(renderCount(result.page.total, result.kind, trans));
    this._pager.replaceChildren(
      ...renderPager(result.page, model.pages, trans, page => {
        void model.goTo(page).then(() => {
          this._main.scrollTop = 0;
        });
      })
    );
    if (result.kind === 'records') {
      this._results.replaceChildren(
        renderRecords(result.page, model.query, trans, record => {
          this._lastOpened = String(record.id);
          this.openRecord(record.id);
        })
      );
    } else {
      this._results.replaceChildren(
        renderCommunities(result.page, model.query, trans, community => {
          model.enterCommunity(community);
          this._input.value = '';
        })
      );
    }
  }

  private _renderControls(): void {
    const trans = this._trans;
    const model = this.model;
    for (const [scope, node] of Object.entries(this._scopeButtons)) {
      const pressed = scope === model.scope;
      node.setAttribute('aria-pressed', String(pressed));
      node.classList.toggle('mz-mod-active', pressed);
    }
    this._renderChoices();
    this._typeFilter.hidden = !model.searchingRecords;
    this._sort.value = model.sort;
    this._type.value = model.type;
    const community = model.community;
    this._input.placeholder = model.searchingRecords
      ? community
        ? trans.__('Search in %1, e.g. title:"climate"', community.title)
        : trans.__('e.g. title:"climate" AND creators.name:Smith')
      : trans.__('Search communities, e.g. astronomy');
    const baseUrl = model.login.baseUrl;
    this._target.replaceChildren(
      baseUrl
        ? model.login.status?.connected
          ? trans.__('Searching %1 (logged in)', hostOf(baseUrl))
          : trans.__('Searching %1 (not logged in)', hostOf(baseUrl))
        : ''
    );

    if (community) {
      if (this._bannerFor !== community) {
        this._bannerFor = community;
        const close = closeButton(trans.__('Back to the communities'), {
          className: 'mz-ZenodoSearch-bannerClose',
          testid: 'mz-zenodo-community-close',
          onClick: () => {
            model.leaveCommunity();
            this._input.value = model.query;
            this._input.focus();
          }
        });
        const name = h(
          'strong',
          { className: 'mz-ZenodoSearch-bannerName' },
          `“${community.title}”`
        );
        const [before, after] = trans.__('Showing results from %1', '\u0000').split('\u0000');
        this._banner.replaceChildren(
          h('span', { className: 'mz-ZenodoSearch-bannerText' }, before, name, after ?? ''),
          close
        );
      }
      this._banner.hidden = false;
    } else {
      this._bannerFor = null;
      this._banner.replaceChildren();
      this._banner.hidden = true;
    }
  }

  /**
   * Fill the Type and Sort selects from the server's vocabulary (resource
   * types; the sorts of records or of communities), when they change.
   */
  private _renderChoices(): void {
    const trans = this._trans;
    const model = this.model;
    if (model.vocabulary !== this._typesFrom) {
      this._typesFrom = model.vocabulary;
      const types = model.vocabulary?.resource_types ?? [];
      fillSelect(this._type, [
        ['', trans.__('All types')],
        ...types.map(t => [t.id, trans.__(t.title)] as const)
      ]);
    }
    const sorts = model.sorts.includes(model.sort) ? model.sorts : [model.sort, ...model.sorts];
    const key = sorts.join(' ');
    if (key !== this._sortsShown) {
      this._sortsShown = key;
      fillSelect(
        this._sort,
        sorts.map(id => [id, this._sortLabels[id] ?? id] as const)
      );
    }
  }

  private _context: IZenodoContext;
  private _trans: TranslationBundle;
  private _input: HTMLInputElement;
  private _scopeButtons: Record<Scope, HTMLButtonElement>;
  private _type: HTMLSelectElement;
  private _sort: HTMLSelectElement;
  private _filters: HTMLElement;
  private _typeFilter: HTMLElement;
  private _typesFrom: IVocabulary | null | undefined = undefined;
  private _sortsShown = '';
  private _sortLabels: Record<string, string>;
  private _target: HTMLElement;
  private _banner: HTMLElement;
  private _bannerFor: object | null = null;
  private _summary: HTMLElement;
  private _results: HTMLElement;
  private _pager: HTMLElement;
  private _listPage: HTMLElement;
  private _detailsPage: HTMLElement;
  private _main: HTMLElement;
  private _tray: PullTray;
  private _details: RecordDetailsView | null = null;
  private _lastOpened: string | null = null;
  private _shown: SearchResult | null = null;
  private _timer = 0;
}

/**
 * Replace the options of `node` with `[value, text]` pairs.
 */
function fillSelect(
  node: HTMLSelectElement,
  options: ReadonlyArray<readonly [string, string]>
): void {
  node.replaceChildren(
    ...options.map(([value, text]) => {
      const option = h('option', {}, text);
      option.value = value;
      return option;
    })
  );
}

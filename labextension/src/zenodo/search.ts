import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import {
  ICommunity,
  IRecordSummary,
  ISearchPage,
  IZenodoFailure,
  PAGE_SIZE,
  toFailure
} from './api';
import { IZenodoContext } from './context';
import { button, h, htmlToText, snippet, spinner } from './dom';
import { RecordDetailsView } from './details';
import { errorBox } from './feedback';
import { PullTray } from './pulls';

/** Idle time after typing before searching. */
const DEBOUNCE_MS = 500;
/** Zenodo pages no further than this many hits. */
const MAX_RESULTS = 10_000;

export const RESOURCE_TYPES: ReadonlyArray<[string, string]> = [
  ['', 'All types'],
  ['publication', 'Publication'],
  ['dataset', 'Dataset'],
  ['software', 'Software'],
  ['presentation', 'Presentation'],
  ['poster', 'Poster'],
  ['image', 'Image'],
  ['video', 'Video/Audio'],
  ['lesson', 'Lesson'],
  ['other', 'Other']
];

const SORTS: ReadonlyArray<[string, string]> = [
  ['bestmatch', 'Best match'],
  ['mostrecent', 'Most recent']
];

const RECORDS_PLACEHOLDER = 'e.g. title:"climate" AND creators.name:Smith';
const COMMUNITIES_PLACEHOLDER = 'Search communities, e.g. astronomy';

type Scope = 'records' | 'communities';

/**
 * The Search view: one box over records or communities, filters, results
 * with paging, a community drill-down, record details; and, at the bottom,
 * the downloads tray.
 */
export class SearchView extends Widget {
  constructor(context: IZenodoContext) {
    super();
    this.addClass('mz-ZenodoSearch');
    this.node.dataset.testid = 'mz-zenodo-search';
    this._context = context;

    // -- the box and its switches
    this._input = h('input', {
      className: 'mz-zenodo-input mz-zenodo-query',
      testid: 'mz-zenodo-query',
      attrs: {
        type: 'search',
        placeholder: RECORDS_PLACEHOLDER,
        'aria-label': 'Search Zenodo',
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
      records: this._scopeButton('records', 'Records'),
      communities: this._scopeButton('communities', 'Communities')
    };
    const scope = h(
      'div',
      {
        className: 'mz-zenodo-switch',
        testid: 'mz-zenodo-scope',
        attrs: { role: 'group', 'aria-label': 'Search in' }
      },
      this._scopeButtons.records,
      this._scopeButtons.communities
    );

    this._type = select('mz-zenodo-type', 'Resource type', RESOURCE_TYPES);
    this._type.addEventListener('change', () => {
      this._page = 1;
      void this._search();
    });
    this._sort = select('mz-zenodo-sort', 'Sort', SORTS);
    this._sort.addEventListener('change', () => {
      this._sortChosen = this._sort.value;
      this._page = 1;
      void this._search();
    });
    this._filters = h(
      'div',
      { className: 'mz-zenodo-filters', testid: 'mz-zenodo-filters' },
      labelled('Type', this._type),
      labelled('Sort', this._sort)
    );
    this._target = h('div', { className: 'mz-zenodo-target', testid: 'mz-zenodo-target' });

    this._banner = h('div', {
      className: 'mz-zenodo-banner',
      testid: 'mz-zenodo-community-banner',
      attrs: { role: 'status' }
    });
    this._banner.hidden = true;

    // -- the results
    this._summary = h('div', { className: 'mz-zenodo-summary', testid: 'mz-zenodo-summary' });
    this._results = h('div', { className: 'mz-zenodo-results-area', attrs: { 'aria-live': 'polite' } });
    this._pager = h('nav', {
      className: 'mz-zenodo-pager',
      testid: 'mz-zenodo-pager',
      attrs: { 'aria-label': 'Result pages' }
    });

    this._listPage = h(
      'div',
      { className: 'mz-zenodo-list-page', testid: 'mz-zenodo-list-page' },
      h(
        'div',
        { className: 'mz-zenodo-searchbar' },
        scope,
        this._input,
        this._filters,
        this._target
      ),
      this._banner,
      this._summary,
      this._results,
      this._pager
    );
    this._detailsPage = h('div', { className: 'mz-zenodo-details-page' });
    this._detailsPage.hidden = true;

    this._tray = new PullTray(context.pulls);
    this._main = h('div', { className: 'mz-zenodo-main' }, this._listPage, this._detailsPage);
    this.node.append(this._main, this._tray.node);

    context.model.changed.connect(this._onModelChanged, this);
    this._updateControls();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.model.changed.disconnect(this._onModelChanged, this);
    this._tray.dispose();
    window.clearTimeout(this._timer);
    super.dispose();
  }

  /**
   * Show the details of a record (also used by tests and commands).
   */
  openRecord(id: number | string): void {
    const view = new RecordDetailsView(this._context, id, this._context.model.baseUrl, () => this._closeDetails());
    this._details = view;
    this._detailsPage.replaceChildren(view.node);
    this._listPage.hidden = true;
    this._detailsPage.hidden = false;
    this._main.scrollTop = 0;
    view.focus();
  }

  protected onAfterAttach(msg: Message): void {
    super.onAfterAttach(msg);
    if (!this._started) {
      this._started = true;
      if (this._context.model.status) {
        void this._search();
      } else {
        void this._context.model.refresh();
      }
    }
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

  private _onModelChanged(): void {
    const baseUrl = this._context.model.baseUrl;
    this._updateControls();
    const connected = !!this._context.model.status?.connected;
    const stale =
      baseUrl !== this._searchedBaseUrl ||
      connected !== this._searchedConnected ||
      (!this._hasResults && !this._loading);
    if (stale && this._started) {
      // signed in or out of another server: search there
      this._page = 1;
      void this._search();
    }
  }

  private _scopeButton(scope: Scope, label: string): HTMLButtonElement {
    const node = button(label, {
      className: `mz-zenodo-switch-option mz-zenodo-scope-${scope}`,
      testid: `mz-zenodo-scope-${scope}`,
      attrs: { 'aria-pressed': String(scope === 'records') },
      onClick: () => this._setScope(scope)
    });
    return node;
  }

  private _setScope(scope: Scope): void {
    if (scope === this._scope && !this._community) {
      return;
    }
    this._scope = scope;
    this._community = null;
    this._page = 1;
    this._closeDetailsIfOpen();
    this._updateControls();
    void this._search();
  }

  private _closeDetailsIfOpen(): void {
    if (this._details) {
      this._closeDetails();
    }
  }

  private _onTyping(): void {
    window.clearTimeout(this._timer);
    this._timer = window.setTimeout(() => this._applyQuery(), DEBOUNCE_MS);
  }

  private _applyQuery(): void {
    window.clearTimeout(this._timer);
    const q = this._input.value.trim();
    if (q === this._query && this._lastFailure === null && this._hasResults) {
      return;
    }
    this._query = q;
    this._page = 1;
    this._updateControls();
    void this._search();
  }

  private _effectiveSort(): string {
    return this._sortChosen || (this._query ? 'bestmatch' : 'mostrecent');
  }

  private _searchingRecords(): boolean {
    return this._scope === 'records' || this._community !== null;
  }

  private _updateControls(): void {
    const records = this._searchingRecords();
    for (const [scope, node] of Object.entries(this._scopeButtons)) {
      const pressed = scope === this._scope;
      node.setAttribute('aria-pressed', String(pressed));
      node.classList.toggle('mz-mod-active', pressed);
    }
    this._filters.hidden = !records;
    this._sort.value = this._effectiveSort();
    this._input.placeholder = records
      ? this._community
        ? `Search in ${this._community.title}, e.g. title:"climate"`
        : RECORDS_PLACEHOLDER
      : COMMUNITIES_PLACEHOLDER;
    const baseUrl = this._context.model.baseUrl;
    const status = this._context.model.status;
    this._target.replaceChildren(
      baseUrl
        ? `Searching ${hostOf(baseUrl)}${status?.connected ? ' (logged in)' : ' (not logged in)'}`
        : ''
    );

    if (this._community) {
      const close = h(
        'button',
        {
          className: 'mz-zenodo-icon-button mz-zenodo-banner-close',
          testid: 'mz-zenodo-community-close',
          title: 'Back to the communities',
          attrs: { type: 'button', 'aria-label': 'Back to the communities' },
          onClick: () => this._leaveCommunity()
        },
        '✕'
      );
      this._banner.replaceChildren(
        h(
          'span',
          { className: 'mz-zenodo-banner-text' },
          'Showing results from ',
          h('strong', { className: 'mz-zenodo-banner-name' }, `“${this._community.title}”`)
        ),
        close
      );
      this._banner.hidden = false;
    } else {
      this._banner.replaceChildren();
      this._banner.hidden = true;
    }
  }

  private _enterCommunity(community: ICommunity): void {
    this._saved = { query: this._query, page: this._page };
    this._community = community;
    this._query = '';
    this._input.value = '';
    this._page = 1;
    this._updateControls();
    void this._search();
  }

  private _leaveCommunity(): void {
    const saved = this._saved;
    this._community = null;
    this._query = saved?.query ?? '';
    this._input.value = this._query;
    this._page = saved?.page ?? 1;
    this._saved = null;
    this._updateControls();
    void this._search();
    this._input.focus();
  }

  private async _search(): Promise<void> {
    const seq = ++this._seq;
    const api = this._context.api;
    const baseUrl = this._context.model.baseUrl;
    this._searchedBaseUrl = baseUrl;
    this._searchedConnected = !!this._context.model.status?.connected;
    this._loading = true;
    this._showLoading();
    let page: ISearchPage<IRecordSummary> | ISearchPage<ICommunity>;
    try {
      if (this._searchingRecords()) {
        page = await api.searchRecords({
          q: this._query,
          type: this._type.value || undefined,
          sort: this._effectiveSort(),
          page: this._page,
          community: this._community?.slug,
          base_url: baseUrl
        });
      } else {
        page = await api.searchCommunities({ q: this._query, page: this._page, base_url: baseUrl });
      }
    } catch (error) {
      if (seq === this._seq) {
        this._loading = false;
        this._showFailure(toFailure(error));
      }
      return;
    }
    if (seq !== this._seq) {
      return; // a newer search was started meanwhile
    }
    this._loading = false;
    this._lastFailure = null;
    this._hasResults = true;
    if (this._searchingRecords()) {
      this._showRecords(page as ISearchPage<IRecordSummary>);
    } else {
      this._showCommunities(page as ISearchPage<ICommunity>);
    }
  }

  private _showLoading(): void {
    this.node.dataset.loading = 'true';
    this._summary.replaceChildren(spinner('Searching…'));
    this._results.classList.add('mz-mod-stale');
  }

  private _showFailure(failure: IZenodoFailure): void {
    delete this.node.dataset.loading;
    this._lastFailure = failure;
    this._hasResults = false;
    this._results.classList.remove('mz-mod-stale');
    const retry = button('Try again', {
      className: 'mz-zenodo-retry',
      testid: 'mz-zenodo-retry',
      onClick: () => void this._search()
    });
    this._summary.replaceChildren(errorBox(failure, { testid: 'mz-zenodo-search-error', extra: [retry] }));
    this._results.replaceChildren();
    this._pager.replaceChildren();
  }

  private _showSummary(total: number, noun: [string, string]): void {
    delete this.node.dataset.loading;
    this._results.classList.remove('mz-mod-stale');
    this._summary.replaceChildren(
      h(
        'span',
        { className: 'mz-zenodo-count', testid: 'mz-zenodo-count' },
        `${total.toLocaleString('en')} ${total === 1 ? noun[0] : noun[1]}`
      )
    );
  }

  private _showPager(page: ISearchPage<unknown>): void {
    const pages = Math.max(1, Math.ceil(Math.min(page.total, MAX_RESULTS) / (page.size || PAGE_SIZE)));
    this._pages = pages;
    if (page.total <= page.size && page.page === 1) {
      this._pager.replaceChildren();
      return;
    }
    const prev = button('‹ Prev', {
      className: 'mz-zenodo-prev',
      testid: 'mz-zenodo-prev',
      disabled: page.page <= 1,
      onClick: () => this._goTo(this._page - 1)
    });
    const next = button('Next ›', {
      className: 'mz-zenodo-next',
      testid: 'mz-zenodo-next',
      disabled: page.page >= pages || !page.has_next,
      onClick: () => this._goTo(this._page + 1)
    });
    this._pager.replaceChildren(
      prev,
      h('span', { className: 'mz-zenodo-page', testid: 'mz-zenodo-page' }, `page ${page.page} of ${pages}`),
      next
    );
  }

  private _goTo(page: number): void {
    if (page < 1 || page > this._pages || this._loading) {
      return;
    }
    this._page = page;
    void this._search().then(() => {
      this._main.scrollTop = 0;
    });
  }

  private _showRecords(page: ISearchPage<IRecordSummary>): void {
    this._page = page.page;
    this._showSummary(page.total, ['result', 'results']);
    this._showPager(page);
    if (!page.hits.length) {
      this._results.replaceChildren(
        h(
          'div',
          { className: 'mz-zenodo-empty', testid: 'mz-zenodo-empty' },
          this._query ? `No records match ${this._query}.` : 'No records.'
        )
      );
      return;
    }
    const body = h('tbody', {});
    for (const record of page.hits) {
      const id = String(record.id);
      const creators =
        record.creators.slice(0, 2).join('; ') + (record.creators.length > 2 ? ' et al.' : '');
      const row = h(
        'tr',
        {
          className: 'mz-zenodo-result',
          testid: 'mz-zenodo-result',
          title: 'Show the details',
          attrs: { tabindex: '0', 'data-record-id': id }
        },
        h(
          'td',
          { className: 'mz-zenodo-result-title' },
          h('div', { className: 'mz-zenodo-result-name' }, record.title || `Record ${id}`),
          creators && h('div', { className: 'mz-zenodo-result-creators' }, creators)
        ),
        h('td', { className: 'mz-zenodo-result-type' }, record.resource_type?.title ?? ''),
        h('td', { className: 'mz-zenodo-result-date' }, record.publication_date ?? '')
      );
      const open = () => {
        this._lastOpened = id;
        this.openRecord(record.id);
      };
      row.addEventListener('click', open);
      row.addEventListener('keydown', event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          open();
        }
      });
      body.append(row);
    }
    this._results.replaceChildren(
      h(
        'table',
        { className: 'mz-zenodo-results', testid: 'mz-zenodo-results' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { className: 'mz-zenodo-col-title', attrs: { scope: 'col' } }, 'Title'),
            h('th', { className: 'mz-zenodo-col-type', attrs: { scope: 'col' } }, 'Resource Type'),
            h('th', { className: 'mz-zenodo-col-date', attrs: { scope: 'col' } }, 'Date Published')
          )
        ),
        body
      )
    );
  }

  private _showCommunities(page: ISearchPage<ICommunity>): void {
    this._page = page.page;
    this._showSummary(page.total, ['community', 'communities']);
    this._showPager(page);
    if (!page.hits.length) {
      this._results.replaceChildren(
        h(
          'div',
          { className: 'mz-zenodo-empty', testid: 'mz-zenodo-empty' },
          this._query ? `No communities match ${this._query}.` : 'No communities.'
        )
      );
      return;
    }
    const list = h('ul', { className: 'mz-zenodo-communities', testid: 'mz-zenodo-communities' });
    for (const community of page.hits) {
      const description = snippet(htmlToText(community.description), 140);
      const item = h(
        'li',
        {
          className: 'mz-zenodo-community',
          testid: 'mz-zenodo-community',
          title: `Show the records of ${community.title}`,
          attrs: { tabindex: '0', role: 'button', 'data-slug': community.slug }
        },
        h(
          'div',
          { className: 'mz-zenodo-community-head' },
          h('span', { className: 'mz-zenodo-community-title' }, community.title),
          community.type && h('span', { className: 'mz-zenodo-badge' }, community.type)
        ),
        description && h('div', { className: 'mz-zenodo-community-description' }, description)
      );
      const open = () => this._enterCommunity(community);
      item.addEventListener('click', open);
      item.addEventListener('keydown', event => {
        if (event.key === 'Enter' || event.key === ' ') {
          event.preventDefault();
          open();
        }
      });
      list.append(item);
    }
    this._results.replaceChildren(list);
  }

  private _context: IZenodoContext;
  private _input: HTMLInputElement;
  private _scopeButtons: Record<Scope, HTMLButtonElement>;
  private _type: HTMLSelectElement;
  private _sort: HTMLSelectElement;
  private _sortChosen = '';
  private _filters: HTMLElement;
  private _target: HTMLElement;
  private _banner: HTMLElement;
  private _summary: HTMLElement;
  private _results: HTMLElement;
  private _pager: HTMLElement;
  private _listPage: HTMLElement;
  private _detailsPage: HTMLElement;
  private _main: HTMLElement;
  private _tray: PullTray;
  private _details: RecordDetailsView | null = null;
  private _lastOpened: string | null = null;

  private _scope: Scope = 'records';
  private _community: ICommunity | null = null;
  private _saved: { query: string; page: number } | null = null;
  private _query = '';
  private _page = 1;
  private _pages = 1;
  private _seq = 0;
  private _timer = 0;
  private _loading = false;
  private _started = false;
  private _hasResults = false;
  private _lastFailure: IZenodoFailure | null = null;
  private _searchedBaseUrl: string | undefined;
  private _searchedConnected = false;
}

function select(testid: string, label: string, options: ReadonlyArray<[string, string]>): HTMLSelectElement {
  const node = h('select', {
    className: 'mz-zenodo-select',
    testid,
    attrs: { 'aria-label': label }
  });
  for (const [value, text] of options) {
    const option = h('option', {}, text);
    option.value = value;
    node.append(option);
  }
  return node;
}

function labelled(text: string, control: HTMLElement): HTMLElement {
  return h('label', { className: 'mz-zenodo-filter' }, h('span', { className: 'mz-zenodo-label' }, text), control);
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

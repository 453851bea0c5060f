import { ISignal, Signal } from '@lumino/signaling';

import { IZenodoSettings } from '../../settings';
import {
  ICommunity,
  IRecordSummary,
  ISearchPage,
  IVocabulary,
  PAGE_SIZE,
  ZenodoAPI
} from '../api';
import { IZenodoFailure, toFailure } from '../failure';
import { ZenodoModel } from '../model';

/** Zenodo pages no further than this many hits. */
const MAX_RESULTS = 10_000;

/**
 * The choices offered until the server's vocabulary arrives (or when it
 * cannot be read): the sorts the server applies by default.
 */
export const FALLBACK_VOCABULARY: IVocabulary = {
  resource_types: [],
  record_sorts: ['bestmatch', 'mostrecent'],
  community_sorts: ['bestmatch', 'newest']
};

export type Scope = 'records' | 'communities';

/**
 * The answer of the last search.
 */
export type SearchResult =
  | { kind: 'records'; page: ISearchPage<IRecordSummary> }
  | { kind: 'communities'; page: ISearchPage<ICommunity> };

/**
 * What the Search tab searches (records or communities, query, filters, page,
 * community) and what it found; the view draws it and calls the setters.
 */
export class SearchModel {
  constructor(
    private readonly _api: ZenodoAPI,
    private readonly _login: ZenodoModel,
    private readonly _settings: { readonly composite: Readonly<IZenodoSettings> }
  ) {
    _login.changed.connect(this._onLoginChanged, this);
  }

  /** Emitted when anything here changes (also when the Zenodo sign-in does). */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get scope(): Scope {
    return this._scope;
  }

  /** The community whose records are searched, else null. */
  get community(): ICommunity | null {
    return this._community;
  }

  get query(): string {
    return this._query;
  }

  /** The resource type filter ('' for all). */
  get type(): string {
    return this._type;
  }

  /**
   * The sort in effect: the one chosen (for records, or for communities),
   * else best match for a query, else the most recent first.
   */
  get sort(): string {
    if (this.searchingRecords) {
      return this._sortChosen || (this._query ? 'bestmatch' : 'mostrecent');
    }
    return this._communitySortChosen || (this._query ? 'bestmatch' : 'newest');
  }

  /** The sorts offered for what is searched now (records or communities). */
  get sorts(): string[] {
    const vocabulary = this._vocabulary ?? FALLBACK_VOCABULARY;
    return this.searchingRecords ? vocabulary.record_sorts : vocabulary.community_sorts;
  }

  /** The resource types and sorts the server offers, once they arrived. */
  get vocabulary(): IVocabulary | null {
    return this._vocabulary;
  }

  get page(): number {
    return this._page;
  }

  /** How many pages the results have (at least 1). */
  get pages(): number {
    return this._pages;
  }

  get loading(): boolean {
    return this._loading;
  }

  /** Why the last search failed, else null. */
  get failure(): IZenodoFailure | null {
    return this._failure;
  }

  /** The last results, else null. */
  get result(): SearchResult | null {
    return this._result;
  }

  /** Records are searched (everywhere or in a community), not communities. */
  get searchingRecords(): boolean {
    return this._scope === 'records' || this._community !== null;
  }

  /** The Zenodo sign-in. */
  get login(): ZenodoModel {
    return this._login;
  }

  dispose(): void {
    this._login.changed.disconnect(this._onLoginChanged, this);
    Signal.clearData(this);
  }

  /**
   * The first search, once the view is shown.
   */
  start(): void {
    if (this._started) {
      return;
    }
    this._started = true;
    void this._loadVocabulary();
    if (this._login.status) {
      void this.search();
    } else {
      void this._login.refresh();
    }
  }

  /**
   * Search for `query` (query-string syntax), from the first page; nothing
   * happens when that is what is shown already.
   */
  setQuery(query: string): void {
    const q = query.trim();
    if (q === this._query && this._failure === null && this._result !== null) {
      return;
    }
    this._query = q;
    this._page = 1;
    void this.search();
  }

  setScope(scope: Scope): void {
    if (scope === this._scope && !this._community) {
      return;
    }
    this._scope = scope;
    this._community = null;
    this._page = 1;
    void this.search();
  }

  setType(type: string): void {
    this._type = type;
    this._page = 1;
    void this.search();
  }

  setSort(sort: string): void {
    if (this.searchingRecords) {
      this._sortChosen = sort;
    } else {
      this._communitySortChosen = sort;
    }
    this._page = 1;
    void this.search();
  }

  /**
   * Show page `page`; resolves when it is there.
   */
  async goTo(page: number): Promise<void> {
    if (page < 1 || page > this._pages || this._loading) {
      return;
    }
    this._page = page;
    await this.search();
  }

  /**
   * Search the records of `community`, with an empty query; `leaveCommunity`
   * comes back to where the user was.
   */
  enterCommunity(community: ICommunity): void {
    this._saved = { query: this._query, page: this._page };
    this._community = community;
    this._query = '';
    this._page = 1;
    void this.search();
  }

  leaveCommunity(): void {
    const saved = this._saved;
    this._community = null;
    this._query = saved?.query ?? '';
    this._page = saved?.page ?? 1;
    this._saved = null;
    void this.search();
  }

  /**
   * Run the search as it is set; a newer search makes an older answer moot.
   */
  async search(): Promise<void> {
    const seq = ++this._seq;
    const baseUrl = this._login.baseUrl;
    const size = this._settings.composite.searchPageSize || PAGE_SIZE;
    this._searchedBaseUrl = baseUrl;
    this._searchedConnected = !!this._login.status?.connected;
    this._loading = true;
    this._changed.emit();
    let result: SearchResult;
    try {
      if (this.searchingRecords) {
        const page = await this._api.searchRecords({
          q: this._query,
          type: this._type || undefined,
          sort: this.sort,
          page: this._page,
          size,
          community: this._community?.slug,
          base_url: baseUrl
        });
        result = { kind: 'records', page };
      } else {
        const page = await this._api.searchCommunities({
          q: this._query,
          sort: this.sort,
          page: this._page,
          size,
          base_url: baseUrl
        });
        result = { kind: 'communities', page };
      }
    } catch (error) {
      if (seq === this._seq) {
        this._loading = false;
        this._failure = toFailure(error);
        this._result = null;
        this._changed.emit();
      }
      return;
    }
    if (seq !== this._seq) {
      return; // a newer search was started meanwhile
    }
    const page = result.page;
    this._loading = false;
    this._failure = null;
    this._result = result;
    this._page = page.page;
    this._pages = Math.max(
      1,
      Math.ceil(Math.min(page.total, MAX_RESULTS) / (page.size || size))
    );
    this._changed.emit();
  }

  private async _loadVocabulary(): Promise<void> {
    try {
      this._vocabulary = await this._api.vocabulary();
    } catch (error) {
      console.warn('mesh-zenodo: cannot read the search vocabulary; offering the default sorts', error);
      return;
    }
    this._changed.emit();
  }

  private _onLoginChanged(): void {
    const connected = !!this._login.status?.connected;
    const stale =
      this._login.baseUrl !== this._searchedBaseUrl ||
      connected !== this._searchedConnected ||
      (this._result === null && !this._loading);
    if (stale && this._started) {
      // signed in or out of another server: search there
      this._page = 1;
      void this.search();
    } else {
      this._changed.emit();
    }
  }

  private _scope: Scope = 'records';
  private _community: ICommunity | null = null;
  private _saved: { query: string; page: number } | null = null;
  private _query = '';
  private _type = '';
  private _sortChosen = '';
  private _communitySortChosen = '';
  private _vocabulary: IVocabulary | null = null;
  private _page = 1;
  private _pages = 1;
  private _seq = 0;
  private _loading = false;
  private _started = false;
  private _failure: IZenodoFailure | null = null;
  private _result: SearchResult | null = null;
  private _searchedBaseUrl: string | undefined;
  private _searchedConnected = false;
  private _changed = new Signal<this, void>(this);
}

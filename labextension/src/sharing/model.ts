import { Contents } from '@jupyterlab/services';
import { Debouncer, Poll } from '@lumino/polling';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import {
  GranteeType,
  IGrantee,
  IGranteeSearch,
  ILink,
  IReceivedShare,
  IShare,
  LinkType,
  ReceivedState,
  Role,
  SharingAPI
} from './api';

/**
 * A list loaded from the server: its items, or why it could not be loaded.
 */
export interface IListState<T> {
  items: T[];
  /** False until the first answer. */
  loaded: boolean;
  /** The server's message when the last load failed. */
  error: string | null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The user's shares, both ways: "shared with me" (polled, so that new shares
 * are noticed) and "shared by me". Every action reloads what it changed, and
 * `changed` tells the views.
 */
export class SharesModel implements IDisposable {
  constructor(readonly api: SharingAPI, options: { interval: number }) {
    this._poll = new Poll({
      auto: false,
      factory: () => this.refreshReceived(true),
      frequency: { interval: options.interval, backoff: true, max: 10 * options.interval },
      name: 'mesh-zenodo:received-shares',
      standby: 'when-hidden'
    });
  }

  /** Shares with me, pending first (as the server orders them). */
  get received(): IListState<IReceivedShare> {
    return this._received;
  }

  /** Shares I made. */
  get mine(): IListState<IShare> {
    return this._mine;
  }

  /** Emitted after any list changed. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Emitted with the received shares after each load of them (for notifications). */
  get receivedLoaded(): ISignal<this, IReceivedShare[]> {
    return this._receivedLoaded;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  /** Check for received shares now, then every `interval` ms. */
  start(): void {
    void this._poll.start();
  }

  /** Change the polling interval (ms). */
  setInterval(interval: number): void {
    this._poll.frequency = { interval, backoff: true, max: 10 * interval };
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshReceived(), this.refreshMine()]);
  }

  /**
   * Load the received shares; `rethrow` for the poll (so that it backs off).
   */
  async refreshReceived(rethrow = false): Promise<void> {
    try {
      const items = await this.api.listReceived();
      this._received = { items, loaded: true, error: null };
      this._receivedLoaded.emit(items);
    } catch (error) {
      this._received = { ...this._received, loaded: true, error: message(error) };
      if (rethrow) {
        this._changed.emit();
        throw error;
      }
    }
    this._changed.emit();
  }

  async refreshMine(): Promise<void> {
    try {
      this._mine = { items: await this.api.listShares(), loaded: true, error: null };
    } catch (error) {
      this._mine = { ...this._mine, loaded: true, error: message(error) };
    }
    this._changed.emit();
  }

  /** Accept, decline or reset a received share; reloads the list. */
  async respond(id: string, state: ReceivedState): Promise<IReceivedShare> {
    try {
      return await this.api.updateReceived(id, { state });
    } finally {
      await this.refreshReceived();
    }
  }

  async setHidden(id: string, hidden: boolean): Promise<IReceivedShare> {
    try {
      return await this.api.updateReceived(id, { hidden });
    } finally {
      await this.refreshReceived();
    }
  }

  private _poll: Poll;
  private _received: IListState<IReceivedShare> = { items: [], loaded: false, error: null };
  private _mine: IListState<IShare> = { items: [], loaded: false, error: null };
  private _changed = new Signal<this, void>(this);
  private _receivedLoaded = new Signal<this, IReceivedShare[]>(this);
}

/** The state of a grantee search. */
export interface IGranteeSearchState {
  query: string;
  result: IGranteeSearch | null;
  error: string | null;
  busy: boolean;
}

/**
 * The search of users and groups (from 3 characters, debounced) behind the
 * Share dialog's SHARE WITH and the project members dialog.
 */
export class GranteeSearch implements IDisposable {
  constructor(private readonly _api: SharingAPI) {
    this._searcher = new Debouncer(() => this._search(), 300);
  }

  get state(): IGranteeSearchState {
    return this._state;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._searcher.dispose();
    Signal.clearData(this);
  }

  setQuery(query: string): void {
    this._state = { ...this._state, query };
    if (query.trim().length < 3) {
      this._state = { query, result: null, error: null, busy: false };
      this._emit();
      return;
    }
    void this._searcher.invoke();
  }

  private async _search(): Promise<void> {
    const query = this._state.query.trim();
    if (query.length < 3) {
      return;
    }
    this._state = { ...this._state, busy: true };
    this._emit();
    try {
      const result = await this._api.findGrantees(query);
      if (this._state.query.trim() === query) {
        this._state = { query: this._state.query, result, error: null, busy: false };
      }
    } catch (error) {
      this._state = { query: this._state.query, result: null, error: message(error), busy: false };
    }
    this._emit();
  }

  private _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _state: IGranteeSearchState = { query: '', result: null, error: null, busy: false };
  private _searcher: Debouncer;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}

/**
 * Everything the Share dialog shows of one file or folder: its contents
 * model, its shares, its public links (null: no links API), and the grantee
 * search. Actions reload the shares and tell the `SharesModel`.
 */
export class ResourceModel implements IDisposable {
  constructor(options: {
    path: string;
    api: SharingAPI;
    contents: Contents.IManager;
    shares: SharesModel;
  }) {
    this.path = options.path;
    this._api = options.api;
    this._contents = options.contents;
    this._sharesModel = options.shares;
    this._grantees = new GranteeSearch(options.api);
    this._grantees.changed.connect(this._emit, this);
  }

  readonly path: string;

  get info(): Contents.IModel | null {
    return this._info;
  }

  get shares(): IListState<IShare> {
    return this._shares;
  }

  get links(): IListState<ILink> | null {
    return this._links;
  }

  /** The grantee search: its query, its answer, or why it failed. */
  get search(): IGranteeSearchState {
    return this._grantees.state;
  }

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._grantees.dispose();
    Signal.clearData(this);
  }

  async load(): Promise<void> {
    await Promise.all([
      this._contents
        .get(this.path, { content: false })
        .then(info => (this._info = info))
        .catch(() => (this._info = null)),
      this.reloadShares(),
      this.reloadLinks()
    ]);
    this._emit();
  }

  async reloadShares(): Promise<void> {
    try {
      this._shares = { items: await this._api.listShares(this.path), loaded: true, error: null };
    } catch (error) {
      this._shares = { ...this._shares, loaded: true, error: message(error) };
    }
    this._emit();
  }

  async reloadLinks(): Promise<void> {
    try {
      const links = await this._api.listLinks(this.path);
      this._links = links === null ? null : { items: links, loaded: true, error: null };
    } catch (error) {
      this._links = { items: [], loaded: true, error: message(error) };
    }
    this._emit();
  }

  /** Search users and groups from 3 characters, debounced. */
  setQuery(query: string): void {
    this._grantees.setQuery(query);
  }

  async share(grantee: { type: GranteeType; name: string }, role: Role, expiration: string | null): Promise<IShare> {
    const share = await this._api.createShare({
      path: this.path,
      grantee,
      role,
      ...(expiration ? { expiration } : {})
    });
    await this._afterChange();
    return share;
  }

  async update(id: string, body: { role?: Role; expiration?: string | null }): Promise<void> {
    try {
      await this._api.updateShare(id, body);
    } finally {
      await this._afterChange();
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this._api.removeShare(id);
    } finally {
      await this._afterChange();
    }
  }

  async createLink(body: { type: LinkType; password?: string; expiration?: string; display_name?: string }): Promise<ILink> {
    try {
      return await this._api.createLink({ path: this.path, ...body });
    } finally {
      await this.reloadLinks();
    }
  }

  async updateLink(
    id: string,
    body: { type?: LinkType; password?: string; expiration?: string | null }
  ): Promise<ILink> {
    try {
      return await this._api.updateLink(id, body);
    } finally {
      await this.reloadLinks();
    }
  }

  async removeLink(id: string): Promise<void> {
    try {
      await this._api.removeLink(id);
    } finally {
      await this.reloadLinks();
    }
  }

  private async _afterChange(): Promise<void> {
    await Promise.all([this.reloadShares(), this._sharesModel.refreshMine()]);
  }

  private _emit(): void {
    if (!this._disposed) {
      this._changed.emit();
    }
  }

  private _changed = new Signal<this, void>(this);
  private _api: SharingAPI;
  private _contents: Contents.IManager;
  private _sharesModel: SharesModel;
  private _grantees: GranteeSearch;
  private _disposed = false;
  private _info: Contents.IModel | null = null;
  private _shares: IListState<IShare> = { items: [], loaded: false, error: null };
  private _links: IListState<ILink> | null = null;
}

export type { IGrantee };

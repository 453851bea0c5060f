import type { DocumentRegistry, IDocumentWidget } from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { h } from '../dom';
import { DocumentsAPI, ILock, IPresence } from './api';

/** Seconds between heartbeats until the server says otherwise, and after a failure. */
const DEFAULT_INTERVAL = 30;

/**
 * Whether `lock` refuses this user's saves: anything but another Jupyter
 * server's short save lock (which saves wait for, then merge) and the user's
 * own "Lock for exclusive editing".
 */
export function blocksSaves(lock: ILock | null | undefined): boolean {
  return !!lock && !lock.mergeable && !(lock.exclusive && lock.mine);
}

/**
 * Which application holds `lock`, for messages: its app name, or "exclusive
 * editing in Jupyter" for a user's "Lock for exclusive editing".
 */
export function lockApp(lock: ILock, trans: TranslationBundle): string {
  if (lock.exclusive) {
    return trans.__('exclusive editing in Jupyter');
  }
  return lock.app_name || trans.__('another application');
}

/**
 * The toolbar item of a document: "Also open by Marie Curie" (tooltip: at
 * which servers), and "Locked by X (APP)" when a lock refuses saves. Hidden
 * when there is nothing to say.
 */
export class PresenceIndicator extends Widget {
  constructor(private readonly _trans: TranslationBundle) {
    super({ node: document.createElement('div') });
    this.addClass('mz-Presence');
    this.node.dataset.testid = 'mz-presence';
    this.node.setAttribute('role', 'status');
    this.node.setAttribute('aria-live', 'polite');
    this.update_(null);
  }

  /** Show what `presence` says (nothing when null). */
  update_(presence: IPresence | null): void {
    const trans = this._trans;
    const children: HTMLElement[] = [];
    const others = presence?.others ?? [];
    if (others.length > 0) {
      const names = Array.from(new Set(others.map(o => o.name || o.user)));
      const where = others.map(o =>
        o.server
          ? trans.__('%1 (%2) at %3', o.name || o.user, o.user, o.server)
          : trans.__('%1 (%2)', o.name || o.user, o.user)
      );
      children.push(
        h(
          'span',
          {
            className: 'mz-Presence-others',
            testid: 'mz-presence-others',
            title: trans.__('Also open by:\n%1', where.join('\n'))
          },
          trans.__('Also open by %1', names.join(', '))
        )
      );
    }
    const lock = presence?.lock;
    if (lock && blocksSaves(lock)) {
      children.push(
        h(
          'span',
          {
            className: 'mz-Presence-lock mz-mod-foreign',
            testid: 'mz-presence-lock',
            title: trans.__('Saves are refused until it is unlocked')
          },
          trans.__('Locked by %1 (%2)', lock.holder || lock.user, lockApp(lock, trans))
        )
      );
    } else if (lock?.exclusive && lock.mine) {
      children.push(
        h(
          'span',
          {
            className: 'mz-Presence-lock mz-mod-mine',
            testid: 'mz-presence-lock',
            title: trans.__('Others cannot save it until you unlock it')
          },
          trans.__('Locked by you')
        )
      );
    }
    this.node.replaceChildren(...children);
    this.setHidden(children.length === 0);
  }
}

/** A path with its open document widgets and the last presence answer. */
interface IEntry {
  path: string;
  widgets: Set<IDocumentWidget>;
  indicators: Map<IDocumentWidget, PresenceIndicator>;
  presence: IPresence | null;
  timer: number;
  /** Whether the first answer was announced (`presenceChanged` with `first`). */
  announced: boolean;
  closed: boolean;
}

export interface IPresenceChange {
  path: string;
  presence: IPresence;
  /** The first answer since the document was opened. */
  first: boolean;
}

/**
 * The documents open in this Lab, by path (the default drive only): a
 * heartbeat on open and every `interval` seconds while open, a "closed" when
 * the last widget of a path is closed, and the presence item in each
 * document's toolbar.
 */
export class OpenDocuments implements IDisposable {
  constructor(
    private readonly _options: {
      api: DocumentsAPI;
      contents: Contents.IManager;
      trans: TranslationBundle;
      /** Resolves when Lab's files are on the CS3 storage (never otherwise). */
      connected: Promise<void>;
      /** Whether to show and advertise presence (the setting). */
      enabled: () => boolean;
    }
  ) {}

  /** Emitted with each presence answer. */
  get presenceChanged(): ISignal<this, IPresenceChange> {
    return this._presenceChanged;
  }

  /** Emitted when a path gets its first open widget. */
  get opened(): ISignal<this, string> {
    return this._opened;
  }

  /** Emitted when the last widget of a path is closed. */
  get closed(): ISignal<this, string> {
    return this._closed;
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    for (const entry of this._entries.values()) {
      window.clearTimeout(entry.timer);
    }
    this._entries.clear();
    Signal.clearData(this);
  }

  /** The open widgets of `path`. */
  widgets(path: string): IDocumentWidget[] {
    return Array.from(this._entries.get(path)?.widgets ?? []);
  }

  /** The last presence answer for `path`. */
  presence(path: string): IPresence | null {
    return this._entries.get(path)?.presence ?? null;
  }

  /** Whether `path` is open here. */
  isOpen(path: string): boolean {
    return this._entries.has(path);
  }

  /**
   * Follow a new document widget (a widget extension's `createNew`).
   */
  track(widget: IDocumentWidget, context: DocumentRegistry.IContext<DocumentRegistry.IModel>): void {
    const indicator = new PresenceIndicator(this._options.trans);
    if (!widget.toolbar.insertAfter('spacer', 'mz-presence', indicator)) {
      widget.toolbar.addItem('mz-presence', indicator);
    }
    let path = context.path;
    this._join(widget, path, indicator);
    const onPath = (sender: unknown, newPath: string) => {
      this._leave(widget, path);
      path = newPath;
      this._join(widget, path, indicator);
    };
    context.pathChanged.connect(onPath);
    widget.disposed.connect(() => {
      context.pathChanged.disconnect(onPath);
      this._leave(widget, path);
      indicator.dispose();
    });
  }

  /** Send a heartbeat for `path` now (after a lock or unlock, say). */
  refresh(path: string): void {
    const entry = this._entries.get(path);
    if (entry) {
      void this._options.connected.then(() => {
        window.clearTimeout(entry.timer);
        return this._beat(entry);
      });
    }
  }

  /** Send a heartbeat for every open path now (after a change of the settings). */
  refreshAll(): void {
    for (const path of Array.from(this._entries.keys())) {
      this.refresh(path);
    }
  }

  private _join(widget: IDocumentWidget, path: string, indicator: PresenceIndicator): void {
    if (this._disposed || this._options.contents.driveName(path) !== '') {
      indicator.update_(null);
      return;
    }
    let entry = this._entries.get(path);
    const fresh = !entry;
    if (!entry) {
      entry = {
        path,
        widgets: new Set(),
        indicators: new Map(),
        presence: null,
        timer: 0,
        announced: false,
        closed: false
      };
      this._entries.set(path, entry);
    }
    entry.widgets.add(widget);
    entry.indicators.set(widget, indicator);
    indicator.update_(this._options.enabled() ? entry.presence : null);
    if (fresh) {
      const started = entry;
      this._opened.emit(path);
      void this._options.connected.then(() => this._beat(started));
    }
  }

  private _leave(widget: IDocumentWidget, path: string): void {
    const entry = this._entries.get(path);
    if (!entry || !entry.widgets.delete(widget)) {
      return;
    }
    entry.indicators.delete(widget);
    if (entry.widgets.size > 0) {
      return;
    }
    entry.closed = true;
    window.clearTimeout(entry.timer);
    this._entries.delete(path);
    this._closed.emit(path);
    if (entry.announced && this._options.enabled()) {
      void this._options.api.leave(path).catch(error => {
        console.debug('mesh-zenodo: presence of a closed document not removed', path, error);
      });
    }
  }

  private async _beat(entry: IEntry): Promise<void> {
    if (entry.closed || this._disposed) {
      return;
    }
    let interval = entry.presence?.interval || DEFAULT_INTERVAL;
    if (this._options.enabled()) {
      try {
        const presence = await this._options.api.heartbeat(entry.path);
        if (entry.closed || this._disposed) {
          if (entry.closed && !this._entries.has(entry.path)) {
            // closed while the heartbeat was on its way: say so now
            void this._options.api.leave(entry.path).catch(() => undefined);
          }
          return;
        }
        const first = !entry.announced;
        entry.announced = true;
        entry.presence = presence;
        interval = presence.interval || DEFAULT_INTERVAL;
        for (const indicator of entry.indicators.values()) {
          indicator.update_(presence);
        }
        this._presenceChanged.emit({ path: entry.path, presence, first });
      } catch (error) {
        console.debug('mesh-zenodo: presence heartbeat failed', entry.path, error);
      }
    } else {
      for (const indicator of entry.indicators.values()) {
        indicator.update_(null);
      }
    }
    if (!entry.closed && !this._disposed) {
      window.clearTimeout(entry.timer);
      entry.timer = window.setTimeout(() => void this._beat(entry), Math.max(1, interval) * 1000);
    }
  }

  private _entries = new Map<string, IEntry>();
  private _presenceChanged = new Signal<this, IPresenceChange>(this);
  private _opened = new Signal<this, string>(this);
  private _closed = new Signal<this, string>(this);
  private _disposed = false;
}

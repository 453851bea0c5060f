import { FileBrowser } from '@jupyterlab/filebrowser';
import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { Throttler } from '@lumino/polling';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { requestAPI } from '../request';
import { formatSize } from '../sharing/format';

export interface IQuota {
  used: number;
  total: number;
  remaining?: number;
}

/**
 * "12.3 MiB of 1 GiB used" (or "12.3 MiB used" without a limit) for the space
 * holding the folder My Files shows (`GET /mesh-zenodo/quota?path=`); asked
 * again when the folder changes, and after saves and uploads (the contents
 * manager's `fileChanged`, the upload's end), at most once a second.
 */
export class QuotaLine extends Widget {
  constructor(
    private readonly _browser: FileBrowser,
    private readonly _settings: ServerConnection.ISettings,
    private readonly _trans: TranslationBundle
  ) {
    super();
    this.addClass('mz-QuotaLine');
    this.node.dataset.testid = 'mz-quota';
    this.node.setAttribute('aria-live', 'polite');
    this._throttler = new Throttler(() => this._load(), { limit: 1000, edge: 'trailing' });
    const model = _browser.model;
    model.pathChanged.connect(this._schedule, this);
    model.manager.services.contents.fileChanged.connect(this._schedule, this);
    model.uploadChanged.connect((sender, args) => {
      if (args.name === 'finish') {
        this._schedule();
      }
    }, this);
    void this._load();
  }

  get quota(): IQuota | null {
    return this._quota;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    // every connection made with this line as receiver
    Signal.disconnectReceiver(this);
    this._throttler.dispose();
    super.dispose();
  }

  private _schedule(): void {
    if (!this.isDisposed) {
      void this._throttler.invoke();
    }
  }

  private async _load(): Promise<void> {
    const path = this._browser.model.manager.services.contents.localPath(this._browser.model.path);
    const ask = ++this._asked;
    try {
      const quota = await requestAPI<IQuota>(`quota?path=${encodeURIComponent(path)}`, this._settings);
      if (ask !== this._asked || this.isDisposed) {
        return;
      }
      this._quota = quota;
      const trans = this._trans;
      this.node.textContent = quota.total
        ? trans.__('%1 of %2 used', formatSize(quota.used), formatSize(quota.total))
        : trans.__('%1 used', formatSize(quota.used));
      this.node.dataset.used = String(quota.used);
      this.node.title = quota.total
        ? trans.__('%1 free in this space', formatSize(quota.remaining ?? quota.total - quota.used))
        : trans.__('No limit in this space');
      this.node.classList.toggle('mz-mod-warn', !!quota.total && quota.used / quota.total > 0.9);
      this.show();
    } catch {
      // no quota to show (the server is not on a CS3 storage, or cannot say)
      if (ask === this._asked && !this.isDisposed) {
        this._quota = null;
        this.node.textContent = '';
        this.hide();
      }
    }
  }

  private _throttler: Throttler;
  private _quota: IQuota | null = null;
  private _asked = 0;
}

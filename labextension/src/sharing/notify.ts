import { Notification } from '@jupyterlab/apputils';
import { IStateDB } from '@jupyterlab/statedb';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';

import { IReceivedShare } from './api';
import { SharesModel } from './model';

/**
 * How many seen share ids are remembered per user (the newest).
 */
const MAX_SEEN = 500;

/**
 * A Lab notification for each share newly made with the user ("einstein
 * shared 'analysis' with you", with Accept and Decline), never twice: the ids
 * already announced are kept per user in Lab's state database (or, without
 * one, for the page's life).
 */
export class ShareNotifier implements IDisposable {
  constructor(options: {
    model: SharesModel;
    trans: TranslationBundle;
    state: IStateDB | null;
    /** The signed-in user (the key of the remembered ids). */
    user: string;
    /** Whether to notify (the `notify` setting). */
    enabled: () => boolean;
    /** Show an accepted share in the file browser. */
    open: (share: IReceivedShare) => void;
  }) {
    this._options = options;
    this._key = `mesh-zenodo:sharing:seen:${options.user}`;
    this._ready = this._load();
    options.model.receivedLoaded.connect(this._onLoaded, this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._options.model.receivedLoaded.disconnect(this._onLoaded, this);
  }

  private async _load(): Promise<void> {
    try {
      const saved = await this._options.state?.fetch(this._key);
      if (Array.isArray(saved)) {
        for (const id of saved) {
          this._seen.add(String(id));
        }
      }
    } catch (reason) {
      console.warn('mesh-zenodo: cannot read the shares already announced', reason);
    }
  }

  private async _onLoaded(sender: SharesModel, shares: IReceivedShare[]): Promise<void> {
    await this._ready;
    if (this._disposed) {
      return;
    }
    const fresh = shares.filter(s => s.state === 'pending' && !s.hidden && !this._seen.has(s.id));
    if (fresh.length === 0) {
      return;
    }
    for (const share of fresh) {
      this._seen.add(share.id);
    }
    await this._save();
    if (!this._options.enabled()) {
      return;
    }
    for (const share of fresh) {
      this._announce(share);
    }
  }

  private async _save(): Promise<void> {
    const ids = Array.from(this._seen).slice(-MAX_SEEN);
    try {
      await this._options.state?.save(this._key, ids);
    } catch (reason) {
      console.warn('mesh-zenodo: cannot remember the shares announced', reason);
    }
  }

  private _announce(share: IReceivedShare): void {
    const { model, trans, open } = this._options;
    const name = share.resource.name;
    const who = share.owner.name || share.owner.display_name;
    Notification.info(trans.__('%1 shared “%2” with you', who, name), {
      autoClose: false,
      actions: [
        {
          label: trans.__('Accept'),
          caption: trans.__('Accept the share: it appears under Shares/'),
          displayType: 'accent',
          callback: () => {
            void model.respond(share.id, 'accepted').then(
              accepted =>
                Notification.success(trans.__('“%1” is now in your Shares folder', name), {
                  autoClose: 8000,
                  actions: [
                    {
                      label: trans.__('Open'),
                      caption: trans.__('Show it in the file browser'),
                      callback: () => open(accepted)
                    }
                  ]
                }),
              error => Notification.error((error as Error).message, { autoClose: 8000 })
            );
          }
        },
        {
          label: trans.__('Decline'),
          caption: trans.__('Decline the share (you can accept it later in the Shares tab)'),
          callback: () => {
            void model
              .respond(share.id, 'rejected')
              .catch(error => Notification.error((error as Error).message, { autoClose: 8000 }));
          }
        }
      ]
    });
  }

  private _options: ConstructorParameters<typeof ShareNotifier>[0];
  private _key: string;
  private _seen = new Set<string>();
  private _ready: Promise<void>;
  private _disposed = false;
}

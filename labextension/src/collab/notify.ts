import { Notification } from '@jupyterlab/apputils';
import { Contents, Event } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';

import { IMergeEvent, IMergeReport, MERGE_EVENT_SCHEMA } from './api';

/** How long one save's event and answer count as the same merge (ms). */
const SAME_MERGE_MS = 20_000;

/**
 * A notification for each merging save: "Marie Curie modified nb.ipynb: 1
 * cell from Marie Curie merged", from Jupyter's event stream (the server's
 * merge event: live rooms and other clients) and from the answers of this
 * Lab's saves (`merge` in the saved model), one per merge.
 */
export class MergeNotifier implements IDisposable {
  constructor(
    private readonly _options: {
      events: Event.IManager;
      contents: Contents.IManager;
      trans: TranslationBundle;
      /** Whether to notify (the setting). */
      enabled: () => boolean;
      /** Open the review dialog on the notebook `path`. */
      review: (path: string) => void;
      /** Open the stored version of `path`, read-only. */
      showStored: (path: string) => void;
      /** Open a file. */
      open: (path: string) => void;
    }
  ) {
    _options.events.stream.connect(this._onEvent, this);
    _options.contents.fileChanged.connect(this._onFileChanged, this);
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._options.events.stream.disconnect(this._onEvent, this);
    this._options.contents.fileChanged.disconnect(this._onFileChanged, this);
  }

  private _onEvent(sender: Event.IManager, event: Event.Emission): void {
    if (event.schema_id !== MERGE_EVENT_SCHEMA || typeof event.path !== 'string') {
      return;
    }
    const data = event as unknown as IMergeEvent;
    this.announce({
      path: data.path,
      summary: typeof data.summary === 'string' ? data.summary : '',
      by: typeof data.by === 'string' ? data.by : '',
      conflicts: typeof data.conflicts === 'number' ? data.conflicts : 0,
      conflict_copy: typeof data.conflict_copy === 'string' ? data.conflict_copy : undefined
    });
  }

  private _onFileChanged(sender: Contents.IManager, change: Contents.IChangedArgs): void {
    if (change.type !== 'save' || !change.newValue) {
      return;
    }
    const merge = (change.newValue as { merge?: IMergeReport }).merge;
    const path = change.newValue.path;
    if (!merge || typeof merge !== 'object' || typeof path !== 'string') {
      return;
    }
    this.announce({
      path,
      summary: merge.summary ?? '',
      by: merge.by?.name || merge.by?.user || '',
      conflicts: Array.isArray(merge.conflicts) ? merge.conflicts.length : 0,
      conflict_copy: merge.conflict_copy
    });
  }

  /** Notify of one merge, unless it was just announced. */
  announce(merge: IMergeEvent): void {
    if (this._disposed || !this._options.enabled() || this._seen(merge)) {
      return;
    }
    const { trans, review, showStored, open } = this._options;
    const { path } = merge;
    const copy = merge.conflict_copy;
    if (copy) {
      Notification.warning(trans.__('Your version of %1 was saved as %2', path, copy), {
        autoClose: false,
        actions: [
          {
            label: trans.__('Open'),
            caption: trans.__('Open your version'),
            displayType: 'accent',
            callback: () => open(copy)
          }
        ]
      });
      return;
    }
    const conflicts = merge.conflicts ?? 0;
    const message = trans.__(
      '%1 modified %2: %3',
      merge.by || trans.__('Someone'),
      path,
      merge.summary || trans.__('merged')
    );
    const actions: Notification.IAction[] = [];
    if (conflicts > 0 && path.endsWith('.ipynb')) {
      actions.push({
        label: trans.__('Review'),
        caption: trans.__('Choose which version of each flagged cell to keep'),
        displayType: 'accent',
        callback: () => review(path)
      });
    }
    actions.push({
      label: trans.__('Show theirs'),
      caption: trans.__('Open the stored version, read-only'),
      callback: () => showStored(path)
    });
    const options = { autoClose: conflicts > 0 ? (false as const) : 10_000, actions };
    if (conflicts > 0) {
      Notification.warning(message, options);
    } else {
      Notification.info(message, options);
    }
  }

  /** Whether the same merge was announced in the last seconds (and remember this one). */
  private _seen(merge: IMergeEvent): boolean {
    const now = Date.now();
    for (const [key, when] of this._recent) {
      if (now - when > SAME_MERGE_MS) {
        this._recent.delete(key);
      }
    }
    // a conflict copy's event says it in its summary, the save's answer does not
    const key = merge.conflict_copy
      ? `${merge.path}\ncopy:${merge.conflict_copy}`
      : `${merge.path}\n${merge.summary}`;
    if (this._recent.has(key)) {
      return true;
    }
    this._recent.set(key, now);
    return false;
  }

  private _recent = new Map<string, number>();
  private _disposed = false;
}

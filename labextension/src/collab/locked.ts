import { Dialog } from '@jupyterlab/apputils';
import { PathExt, Time } from '@jupyterlab/coreutils';
import { TranslationBundle } from '@jupyterlab/translation';
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';

import { h } from '../dom';
import { DocumentsAPI, ILock } from './api';
import { blocksSaves, lockApp } from './presence';

/** How often an open conflict copy checks whether its original is still locked (ms). */
const COPY_INTERVAL = 10_000;

export type LockedChoice = 'preview' | 'copy' | 'cancel';

/**
 * "File locked": the file was opened while a lock refuses saves (an office
 * editor, a sync client, someone's exclusive lock). Preview, Work on a copy,
 * or Cancel (keep it open; saves are refused with the server's message).
 */
export async function askLocked(options: {
  path: string;
  lock: ILock;
  trans: TranslationBundle;
}): Promise<LockedChoice> {
  const { path, lock, trans } = options;
  const since = lock.since ? Time.format(lock.since) : trans.__('an unknown time');
  const body = new Widget({
    node: h(
      'div',
      { className: 'mz-LockedDialog-body', testid: 'mz-locked-body' },
      h(
        'p',
        {},
        trans.__(
          'This file is locked by %1 (%2) since %3',
          lock.holder || lock.user,
          lockApp(lock, trans),
          since
        )
      ),
      h(
        'p',
        { className: 'mz-LockedDialog-hint' },
        trans.__(
          'Your saves would be refused until it is unlocked: open a read-only preview that follows its saves, or work on a copy and merge it back later.'
        )
      )
    )
  });
  const dialog = new Dialog<void>({
    title: trans.__('File locked'),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel'), caption: trans.__('Keep it open (saves will be refused)') }),
      Dialog.okButton({
        label: trans.__('Work on a copy'),
        caption: trans.__('Edit a copy next to it; merge it back when the lock is gone'),
        actions: ['copy']
      }),
      Dialog.okButton({
        label: trans.__('Preview'),
        caption: trans.__('A read-only view, refreshed when the file is saved'),
        actions: ['preview']
      })
    ],
    defaultButton: 2
  });
  dialog.addClass('mz-LockedDialog');
  dialog.node.dataset.path = path;
  try {
    const result = await dialog.launch();
    if (!result.button.accept) {
      return 'cancel';
    }
    return result.button.actions.includes('copy') ? 'copy' : 'preview';
  } finally {
    dialog.dispose();
  }
}

/**
 * While a conflict copy is open: checks every 10 s whether its original is
 * still locked; once the lock is gone, calls `free` (once) and stops.
 */
export class CopyWatcher implements IDisposable {
  constructor(
    private readonly _options: {
      api: DocumentsAPI;
      copy: string;
      /** The lock is gone: offer to merge the copy into `original`. */
      free: (copy: string, original: string) => void;
    }
  ) {
    this._poll = new Poll({
      factory: () => this._check(),
      frequency: { interval: COPY_INTERVAL, backoff: true, max: 6 * COPY_INTERVAL },
      name: 'mesh-zenodo:conflict-copy',
      standby: 'when-hidden'
    });
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  dispose(): void {
    this._poll.dispose();
  }

  private async _check(): Promise<void> {
    const { api, copy, free } = this._options;
    const origin = await api.copyOrigin(copy);
    if (this.isDisposed) {
      return;
    }
    if (!origin.original) {
      this.dispose(); // not a copy made by Work on a copy
      return;
    }
    if (!blocksSaves(origin.lock)) {
      this.dispose();
      free(copy, origin.original);
    }
  }

  private _poll: Poll;
}

/** The file name of `path`, for messages. */
export function fileName(path: string): string {
  return PathExt.basename(path) || path;
}

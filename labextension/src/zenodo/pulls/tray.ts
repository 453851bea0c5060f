import { TranslationBundle } from '@jupyterlab/translation';

import { button, closeButton, h, progressBar, ViewSet } from '../../dom';
import { errorBox } from '../../feedback';
import { describeFailure } from '../failure';
import { humanSize } from '../format';
import { FINAL_ITEM_STATES, PullManager, PullTask } from './model';

/**
 * The downloads tray: one card per pull, with progress, cancel and outcome.
 */
export class PullTray {
  constructor(
    private readonly _manager: PullManager,
    private readonly _trans: TranslationBundle
  ) {
    this.node = h('section', {
      className: 'mz-PullTray',
      testid: 'mz-zenodo-pulls',
      attrs: { 'aria-label': _trans.__('Downloads from Zenodo') }
    });
    _manager.changed.connect(this._render, this);
    this._render();
  }

  readonly node: HTMLElement;

  dispose(): void {
    this._manager.changed.disconnect(this._render, this);
    this._cards.dispose();
  }

  private _render(): void {
    const nodes = this._cards.sync(this._manager.tasks);
    this.node.hidden = nodes.length === 0;
    this.node.replaceChildren(
      ...(nodes.length
        ? [h('h3', { className: 'mz-PullTray-title' }, this._trans.__('Downloads'))]
        : []),
      ...nodes
    );
  }

  private readonly _cards = new ViewSet<PullTask, PullCard>(
    task => new PullCard(task, this._manager, this._trans)
  );
}

/**
 * One pull: head (what → where, Cancel / dismiss), overall bar, files, outcome.
 * The head's buttons stay in place while the rest is redrawn.
 */
class PullCard {
  constructor(
    private readonly _task: PullTask,
    private readonly _manager: PullManager,
    private readonly _trans: TranslationBundle
  ) {
    const trans = _trans;
    this._cancel = button(trans.__('Cancel'), {
      className: 'mz-PullCard-cancel',
      testid: 'mz-zenodo-pull-cancel',
      onClick: () => {
        this._cancel.disabled = true;
        void this._task.cancel();
      }
    });
    this._dismiss = closeButton(trans.__('Remove from the list'), {
      className: 'mz-PullCard-dismiss',
      testid: 'mz-zenodo-pull-dismiss',
      onClick: () => this._manager.dismiss(this._task)
    });
    this._body = h('div', { className: 'mz-PullCard-body' });
    this.node = h(
      'div',
      { className: 'mz-PullCard', testid: 'mz-zenodo-pull' },
      h(
        'div',
        { className: 'mz-PullCard-head' },
        h(
          'div',
          { className: 'mz-PullCard-what' },
          h('div', { className: 'mz-PullCard-title', title: _task.record.title }, _task.record.title),
          h(
            'div',
            { className: 'mz-PullCard-dest', testid: 'mz-zenodo-pull-dest' },
            `→ ${_task.displayDestination}`
          )
        ),
        this._cancel,
        this._dismiss
      ),
      this._body
    );
    this._stateLabels = {
      pending: trans.__('Waiting'),
      running: trans.__('Downloading'),
      done: trans.__('Saved'),
      skipped: trans.__('Skipped'),
      conflict: trans.__('Name clash'),
      failed: trans.__('Failed'),
      cancelled: trans.__('Cancelled')
    };
    _task.changed.connect(this._update, this);
    this._update();
  }

  readonly node: HTMLElement;

  dispose(): void {
    this._task.changed.disconnect(this._update, this);
  }

  private _update(): void {
    const trans = this._trans;
    const task = this._task;
    const items = task.items;
    this.node.dataset.state = task.state;
    this._cancel.hidden = !task.running;
    this._dismiss.hidden = task.running || task.state === 'asking';

    const saved = items.filter(i => i.state === 'done');
    const bytesTotal = items.reduce((s, i) => s + (i.state === 'skipped' ? 0 : i.bytes_total), 0);
    const bytesDone = items.reduce(
      (s, i) => s + (i.state === 'skipped' ? 0 : Math.min(i.bytes_done, i.bytes_total)),
      0
    );
    const finished = items.filter(i => FINAL_ITEM_STATES.has(i.state)).length;
    const clashes = items.filter(i => i.state === 'conflict').length;
    // while the name-clash question is open, say so rather than a count that looks finished
    const waiting = h(
      'div',
      {
        className: 'mz-PullCard-waiting',
        testid: 'mz-zenodo-pull-waiting',
        attrs: { role: 'status' }
      },
      trans._n(
        'Waiting for your answer: %1 file already exists',
        'Waiting for your answer: %1 files already exist',
        clashes
      )
    );
    const overall = h(
      'div',
      { className: 'mz-PullCard-overall' },
      progressBar(task.fraction, trans.__('Overall progress'), {
        testid: 'mz-zenodo-pull-progress'
      }),
      h(
        'div',
        { className: 'mz-PullCard-counts', testid: 'mz-zenodo-pull-counts' },
        trans._n(
          '%2 of %1 file · %3 of %4',
          '%2 of %1 files · %3 of %4',
          items.length,
          finished,
          humanSize(bytesDone),
          humanSize(bytesTotal)
        )
      )
    );

    const files = h(
      'ul',
      { className: 'mz-PullCard-files', testid: 'mz-zenodo-pull-files' },
      ...items.map(item => {
        const fraction = item.bytes_total
          ? item.bytes_done / item.bytes_total
          : FINAL_ITEM_STATES.has(item.state)
            ? 1
            : 0;
        const renamedTo =
          item.result?.name && item.result.name !== item.name ? item.result.name : null;
        const note =
          item.state === 'failed' || item.state === 'conflict' || item.state === 'skipped'
            ? item.message
            : renamedTo
              ? trans.__('saved as %1', renamedTo)
              : null;
        return h(
          'li',
          {
            className: `mz-PullCard-file mz-mod-${item.state}`,
            testid: 'mz-zenodo-pull-file',
            attrs: { 'data-key': item.name, 'data-state': item.state }
          },
          h(
            'div',
            { className: 'mz-PullCard-fileRow' },
            h('span', { className: 'mz-PullCard-fileName', title: item.name }, item.name),
            h(
              'span',
              { className: 'mz-PullCard-fileState' },
              this._stateLabels[item.state] ?? item.state
            )
          ),
          item.state === 'running' || item.state === 'pending'
            ? progressBar(fraction, trans.__('Progress of %1', item.name), {
                className: 'mz-mod-small'
              })
            : null,
          note &&
            h(
              'div',
              {
                className: `mz-PullCard-fileMessage${item.state === 'failed' ? ' mz-mod-error' : ''}`,
                testid: 'mz-zenodo-pull-file-message'
              },
              note
            )
        );
      })
    );

    const outcome = this._outcome(saved.length, items.length);
    this._body.replaceChildren(
      ...(task.running ? [overall] : task.state === 'asking' ? [waiting] : []),
      ...(outcome ? [outcome] : []),
      files
    );
  }

  private _outcome(saved: number, total: number): HTMLElement | null {
    const trans = this._trans;
    const task = this._task;
    const where = task.displayDestination;
    const files = (n: number) => trans._n('%1 file', '%1 files', n);
    const open = () =>
      button(trans.__('Open folder'), {
        className: 'mz-PullCard-open',
        testid: 'mz-zenodo-pull-open',
        onClick: () => void this._manager.openFolder(task)
      });
    const summary = (state: string, role: string, ...children: (HTMLElement | false)[]) =>
      h(
        'div',
        {
          className: `mz-PullCard-summary mz-mod-${state}`,
          testid: 'mz-zenodo-pull-summary',
          attrs: { role }
        },
        ...children
      );
    switch (task.state) {
      case 'starting':
      case 'running':
        return null;
      case 'asking':
        return null; // the waiting line says it
      case 'done': {
        const skipped = task.items.filter(i => i.state === 'skipped').length;
        const text =
          saved === 0
            ? trans.__('Nothing new to save in %1: %2 already there.', where, files(skipped))
            : skipped
              ? trans.__('Saved %1 to %2 (%3 skipped).', files(saved), where, skipped)
              : trans.__('Saved %1 to %2.', files(saved), where);
        return summary('success', 'status', h('span', {}, text), open());
      }
      case 'cancelled':
        return summary(
          'cancelled',
          'status',
          h(
            'span',
            {},
            saved
              ? trans.__(
                  'Cancelled. %1 of %2 had been saved to %3; partial files were removed.',
                  files(saved),
                  total,
                  where
                )
              : trans.__('Cancelled. Nothing was saved to %1; partial files were removed.', where)
          )
        );
      case 'failed': {
        const failed = task.items.filter(i => i.state === 'failed').length;
        if (task.failure && !failed) {
          return errorBox(
            describeFailure(task.failure, trans, trans.__('The download did not start')),
            { testid: 'mz-zenodo-pull-error' }
          );
        }
        return summary(
          'error',
          'alert',
          h(
            'span',
            {},
            saved
              ? trans.__(
                  '%1 of %2 could not be saved; %3 saved to %4.',
                  files(failed),
                  total,
                  files(saved),
                  where
                )
              : trans.__('%1 of %2 could not be saved.', files(failed), total)
          ),
          saved > 0 && open()
        );
      }
    }
  }

  private _cancel: HTMLButtonElement;
  private _dismiss: HTMLButtonElement;
  private _body: HTMLElement;
  private _stateLabels: Record<string, string>;
}

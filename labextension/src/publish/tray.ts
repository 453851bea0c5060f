import { TranslationBundle } from '@jupyterlab/translation';

import { button, closeButton, externalLink, h, progressBar, ViewSet } from '../dom';
import { errorBox } from '../feedback';
import { describeFailure } from '../zenodo/failure';
import { hostOf, humanSize } from '../zenodo/format';
import { PublishManager, PublishTask } from './model';

const FINAL = new Set(['done', 'skipped', 'failed', 'cancelled']);

/**
 * The publications tray: one card per publication, with progress per file
 * and overall, Cancel, the (reserved) DOI and the outcome.
 */
export class PublishTray {
  constructor(
    private readonly _manager: PublishManager,
    private readonly _trans: TranslationBundle,
    private readonly _actions: PublishTray.IActions
  ) {
    this.node = h('section', {
      className: 'mz-PublishTray',
      testid: 'mz-publish-tray',
      attrs: { 'aria-label': _trans.__('Publications to Zenodo') }
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
    this.node.replaceChildren(
      ...(nodes.length
        ? nodes
        : [
            h(
              'div',
              { className: 'mz-Empty', testid: 'mz-publish-none' },
              this._trans.__('Nothing published from this server yet.')
            )
          ])
    );
  }

  private readonly _cards = new ViewSet<PublishTask, PublishCard>(
    task => new PublishCard(task, this._manager, this._trans, this._actions)
  );
}

export namespace PublishTray {
  export interface IActions {
    /** Open the Publish form of the task's folder again (after a failure). */
    edit: (task: PublishTask) => void;
  }
}

/**
 * One publication: what → where, Cancel / dismiss, the DOI, overall bar,
 * files, outcome. The head's buttons stay in place while the rest is redrawn.
 */
class PublishCard {
  constructor(
    private readonly _task: PublishTask,
    private readonly _manager: PublishManager,
    private readonly _trans: TranslationBundle,
    private readonly _actions: PublishTray.IActions
  ) {
    const trans = _trans;
    this._cancel = button(trans.__('Cancel'), {
      className: 'mz-PublishCard-cancel',
      testid: 'mz-publish-cancel',
      onClick: () => {
        this._cancel.disabled = true;
        void this._task.cancel();
      }
    });
    this._dismiss = closeButton(trans.__('Remove from the list'), {
      className: 'mz-PublishCard-dismiss',
      testid: 'mz-publish-dismiss',
      onClick: () => this._manager.dismiss(this._task)
    });
    this._title = h('div', { className: 'mz-PublishCard-title' });
    this._body = h('div', { className: 'mz-PublishCard-body' });
    this.node = h(
      'div',
      {
        className: 'mz-PublishCard',
        testid: 'mz-publish-job',
        attrs: { 'data-job': _task.id, 'data-path': _task.path }
      },
      h(
        'div',
        { className: 'mz-PublishCard-head' },
        h(
          'div',
          { className: 'mz-PublishCard-what' },
          this._title,
          h(
            'div',
            { className: 'mz-PublishCard-folder', testid: 'mz-publish-job-folder' },
            `${_task.displayPath} → ${hostOf(_task.baseUrl, 'Zenodo')}`
          )
        ),
        this._cancel,
        this._dismiss
      ),
      this._body
    );
    this._stateLabels = {
      pending: trans.__('Waiting'),
      running: trans.__('Uploading'),
      done: trans.__('Uploaded'),
      skipped: trans.__('Already there'),
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
    const result = task.result;
    this.node.dataset.state = task.state;
    this._title.textContent = task.title;
    this._title.title = task.title;
    this._cancel.hidden = !task.running;
    this._dismiss.hidden = task.running;

    const doi = result?.doi
      ? h(
          'div',
          { className: 'mz-PublishCard-doi', testid: 'mz-publish-job-doi' },
          task.running || result.state === 'draft'
            ? trans.__('DOI (reserved): %1', result.doi)
            : trans.__('DOI: %1', result.doi)
        )
      : null;

    const bytesTotal = items.reduce((s, i) => s + i.bytes_total, 0);
    const bytesDone = items.reduce((s, i) => s + Math.min(i.bytes_done, i.bytes_total), 0);
    const finished = items.filter(i => FINAL.has(i.state)).length;
    const overall = task.running
      ? h(
          'div',
          { className: 'mz-PublishCard-overall' },
          progressBar(task.fraction, trans.__('Overall progress'), {
            testid: 'mz-publish-job-progress'
          }),
          h(
            'div',
            { className: 'mz-PublishCard-counts', testid: 'mz-publish-job-counts' },
            items.length
              ? trans._n(
                  '%2 of %1 file · %3 of %4',
                  '%2 of %1 files · %3 of %4',
                  items.length,
                  finished,
                  humanSize(bytesDone),
                  humanSize(bytesTotal)
                )
              : trans.__('Preparing the draft on Zenodo…')
          )
        )
      : null;

    const files = h(
      'ul',
      { className: 'mz-PublishCard-files', testid: 'mz-publish-job-files' },
      ...items.map(item => {
        const fraction = item.bytes_total
          ? item.bytes_done / item.bytes_total
          : FINAL.has(item.state)
            ? 1
            : 0;
        return h(
          'li',
          {
            className: `mz-PublishCard-file mz-mod-${item.state}`,
            testid: 'mz-publish-job-file',
            attrs: { 'data-key': item.name, 'data-state': item.state }
          },
          h(
            'div',
            { className: 'mz-PublishCard-fileRow' },
            h('span', { className: 'mz-PublishCard-fileName', title: item.name }, item.name),
            h('span', { className: 'mz-PublishCard-fileSize' }, humanSize(item.bytes_total)),
            h('span', { className: 'mz-PublishCard-fileState' }, this._stateLabels[item.state] ?? item.state)
          ),
          item.state === 'running'
            ? progressBar(fraction, trans.__('Progress of %1', item.name), { className: 'mz-mod-small' })
            : null,
          item.state === 'failed' && item.message
            ? h('div', { className: 'mz-PublishCard-fileMessage mz-mod-error' }, item.message)
            : null
        );
      })
    );
    this._body.replaceChildren(
      ...[doi, overall, this._outcome(), files].filter((n): n is HTMLElement => !!n)
    );
  }

  private _outcome(): HTMLElement | null {
    const trans = this._trans;
    const task = this._task;
    const result = task.result;
    const open = () =>
      result?.url
        ? externalLink(result.url, trans.__('Open on Zenodo'), {
            className: 'mz-PublishCard-link',
            testid: 'mz-publish-job-link'
          })
        : null;
    const summary = (state: string, role: string, ...children: (HTMLElement | string | null)[]) =>
      h(
        'div',
        {
          className: `mz-PublishCard-summary mz-mod-${state}`,
          testid: 'mz-publish-job-summary',
          attrs: { role }
        },
        ...children
      );
    switch (task.state) {
      case 'running':
        return null;
      case 'done':
        return result?.state === 'draft'
          ? summary(
              'success',
              'status',
              h('span', {}, trans.__('Draft ready on Zenodo: review it and publish it there.')),
              ' ',
              open()
            )
          : summary(
              'success',
              'status',
              h(
                'span',
                {},
                result?.version
                  ? trans.__('Published (version %1).', result.version)
                  : trans.__('Published.')
              ),
              ' ',
              open()
            );
      case 'cancelled':
        return summary(
          'cancelled',
          'status',
          h(
            'span',
            {},
            trans.__('Cancelled. The draft stays on Zenodo; publishing the folder again goes on with it.')
          )
        );
      case 'failed': {
        const failure = task.failure;
        const canEdit = !!task.path;
        return errorBox(
          describeFailure(
            failure ?? { message: trans.__('The publication failed.'), reason: '', status: 0, retryAfter: null },
            trans,
            trans.__('Not published')
          ),
          {
            testid: 'mz-publish-job-error',
            extra: [
              task.fieldErrors.length
                ? h(
                    'ul',
                    { className: 'mz-PublishCard-fieldErrors' },
                    ...task.fieldErrors.map(e =>
                      h('li', {}, `${e.field ? `${e.field}: ` : ''}${e.messages.join(' ')}`)
                    )
                  )
                : null,
              canEdit
                ? button(trans.__('Edit and publish again…'), {
                    testid: 'mz-publish-job-edit',
                    onClick: () => this._actions.edit(task)
                  })
                : null
            ]
          }
        );
      }
    }
  }

  private _cancel: HTMLButtonElement;
  private _dismiss: HTMLButtonElement;
  private _title: HTMLElement;
  private _body: HTMLElement;
  private _stateLabels: Record<string, string>;
}

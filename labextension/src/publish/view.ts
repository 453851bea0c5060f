import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';
import { errorBox } from '../feedback';
import { describeFailure } from '../zenodo/failure';
import { formatDateTime } from '../zenodo/format';
import { ZenodoModel } from '../zenodo/model';
import { serverLabel } from './dialog';
import { PublishManager, PublishTask } from './model';
import { PublishTray } from './tray';

/**
 * The Publish tab of the Zenodo panel: "Publish a folder…", the publications
 * of this server (with progress, Cancel, DOI) and the interrupted ones, with
 * Resume.
 */
export class PublishView extends Widget {
  constructor(private readonly _options: PublishView.IOptions) {
    super();
    const { manager, trans } = _options;
    this.addClass('mz-PublishView');
    this.node.dataset.testid = 'mz-publish-view';
    this._status = h('div', { className: 'mz-PublishView-status', testid: 'mz-publish-status' });
    this._interrupted = h('div', { className: 'mz-PublishView-interrupted', testid: 'mz-publish-interrupted' });
    this._listError = h('div');
    this._tray = new PublishTray(manager, trans, { edit: _options.edit });
    this.node.append(
      h(
        'p',
        { className: 'mz-Form-help' },
        trans.__(
          'Publish a folder of your storage (a share, a project…) as a Zenodo record: a snapshot of its files, with a DOI.'
        )
      ),
      this._status,
      h(
        'div',
        { className: 'mz-Form-actions' },
        button(trans.__('Publish a folder…'), {
          primary: true,
          testid: 'mz-publish-folder',
          onClick: () => _options.publishFolder()
        })
      ),
      this._interrupted,
      h(
        'div',
        { className: 'mz-PublishView-header' },
        h('h3', { className: 'mz-PublishView-title' }, trans.__('Publications')),
        button(trans.__('Refresh'), {
          testid: 'mz-publish-refresh',
          onClick: () => void manager.refresh()
        })
      ),
      this._listError,
      this._tray.node
    );
    manager.changed.connect(this._render, this);
    _options.zenodo.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.manager.changed.disconnect(this._render, this);
    this._options.zenodo.changed.disconnect(this._render, this);
    this._tray.dispose();
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._options.manager.refresh();
  }

  private _render(): void {
    const { manager, zenodo, trans } = this._options;
    const status = zenodo.status;
    if (status?.connected) {
      this._status.replaceChildren(
        h('span', {}, trans.__('Publishing to %1', serverLabel(status.base_url, trans)))
      );
    } else {
      this._status.replaceChildren(
        h(
          'div',
          { className: 'mz-Notice' },
          h('div', { className: 'mz-Notice-title' }, trans.__('Sign in to Zenodo first')),
          h('div', {}, trans.__('Publishing needs your Zenodo access token (Login tab).')),
          button(trans.__('Sign in to Zenodo…'), {
            testid: 'mz-publish-view-sign-in',
            onClick: () => this._options.signIn()
          })
        )
      );
    }
    this._listError.replaceChildren(
      ...(manager.listFailure
        ? [
            errorBox(describeFailure(manager.listFailure, trans, trans.__('Cannot list the publications')), {
              testid: 'mz-publish-list-error'
            })
          ]
        : [])
    );
    const interrupted = manager.interrupted;
    this._interrupted.hidden = interrupted.length === 0;
    this._interrupted.replaceChildren(
      ...(interrupted.length
        ? [
            h('h3', { className: 'mz-PublishView-title' }, trans.__('Interrupted')),
            h(
              'p',
              { className: 'mz-Form-help' },
              trans.__('A restart of the server stopped these publications. Resume goes on with their drafts.')
            ),
            h(
              'ul',
              { className: 'mz-PublishView-list' },
              ...interrupted.map(item => {
                const resume = button(trans.__('Resume'), {
                  primary: true,
                  testid: 'mz-publish-resume',
                  onClick: async () => {
                    resume.disabled = true;
                    try {
                      await manager.resume(item.id);
                    } catch (error) {
                      Notification.error((error as Error).message ?? String(error), { autoClose: 8000 });
                      resume.disabled = false;
                    }
                  }
                });
                return h(
                  'li',
                  {
                    className: 'mz-PublishView-item',
                    testid: 'mz-publish-interrupted-item',
                    attrs: { 'data-id': item.id, 'data-path': item.path }
                  },
                  h(
                    'div',
                    { className: 'mz-PublishView-itemText' },
                    h('div', { className: 'mz-PublishCard-title' }, item.title || `/${item.path}`),
                    h(
                      'div',
                      { className: 'mz-Form-help' },
                      [`/${item.path}`, item.started ? trans.__('started %1', formatDateTime(item.started)) : '']
                        .filter(Boolean)
                        .join(' · ')
                    )
                  ),
                  resume
                );
              })
            )
          ]
        : [])
    );
  }

  private _status: HTMLElement;
  private _interrupted: HTMLElement;
  private _listError: HTMLElement;
  private _tray: PublishTray;
}

export namespace PublishView {
  export interface IOptions {
    manager: PublishManager;
    zenodo: ZenodoModel;
    trans: TranslationBundle;
    /** Choose a folder, then open its Publish dialog. */
    publishFolder: () => void;
    /** Show the Login tab. */
    signIn: () => void;
    /** Open the form of a failed publication again. */
    edit: (task: PublishTask) => void;
  }
}

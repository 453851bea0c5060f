import { Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import { Message } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';
import { errorBox } from '../feedback';
import { IReceivedShare, IShare, mountPath } from './api';
import { formatDate, granteeLabel, roleLabel, stateLabel } from './format';
import { SharesModel } from './model';

/**
 * What the Shares tab does besides showing the model.
 */
export interface ISharesViewOptions {
  model: SharesModel;
  trans: TranslationBundle;
  /** Show an accepted share in Lab's file browser. */
  open: (share: IReceivedShare) => void;
  /** Open the Share dialog of a path (Manage). */
  manage: (path: string) => void;
  /** Publish a folder to Zenodo, when publishing is there. */
  publish?: IPublishAction;
}

/**
 * The "Publish…" button of folder entries (Shares and Projects tabs).
 */
export interface IPublishAction {
  /** Whether publishing is possible in this Lab. */
  available: () => boolean;
  /** Open the Publish dialog of a folder (its Jupyter path). */
  run: (path: string) => void;
}

/**
 * A small "Publish…" button for a folder entry, or null when publishing is
 * not there.
 */
export function publishButton(
  action: IPublishAction | undefined,
  path: string | null,
  trans: TranslationBundle,
  testid: string
): HTMLButtonElement | null {
  if (!action || !path || !action.available()) {
    return null;
  }
  return button(trans.__('Publish…'), {
    testid,
    className: 'mz-SharesView-publish',
    title: trans.__('Publish this folder to Zenodo'),
    onClick: () => action.run(path)
  });
}

/**
 * The Shares tab of the ScienceMesh panel: "Shared with me" as one list
 * (pending first, with Accept and Decline; accepted ones open in the file
 * browser; Hide, and Show hidden) and "Shared by me" (grantees, roles, Manage),
 * each with a filter box. Redrawn whenever the model changes.
 */
export class SharesView extends Widget {
  constructor(options: ISharesViewOptions) {
    super();
    this.addClass('mz-SharesView');
    this.node.dataset.testid = 'mz-shares';
    this._options = options;
    const trans = options.trans;

    this._withFilter = this._filterBox(trans.__('Filter shared with me'), 'mz-shares-with-filter');
    this._byFilter = this._filterBox(trans.__('Filter shared by me'), 'mz-shares-by-filter');
    this._showHidden = h('input', { testid: 'mz-shares-show-hidden', attrs: { type: 'checkbox' } });
    this._showHidden.addEventListener('change', () => this._render());
    this._withList = h('ul', { className: 'mz-SharesView-list', testid: 'mz-shares-with' });
    this._byList = h('ul', { className: 'mz-SharesView-list', testid: 'mz-shares-by' });

    const refresh = button(trans.__('Refresh'), {
      testid: 'mz-shares-refresh',
      onClick: () => void options.model.refresh()
    });
    this.node.append(
      h(
        'div',
        { className: 'mz-SharesView-section' },
        h(
          'div',
          { className: 'mz-SharesView-header' },
          h('h3', { className: 'mz-SharesView-title' }, trans.__('Shared with me')),
          refresh
        ),
        this._withFilter,
        h(
          'label',
          { className: 'mz-Form-check' },
          this._showHidden,
          trans.__('Show hidden')
        ),
        this._withList
      ),
      h(
        'div',
        { className: 'mz-SharesView-section' },
        h(
          'div',
          { className: 'mz-SharesView-header' },
          h('h3', { className: 'mz-SharesView-title' }, trans.__('Shared by me'))
        ),
        this._byFilter,
        this._byList
      )
    );
    options.model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._options.model.changed.disconnect(this._render, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    void this._options.model.refresh();
  }

  private _filterBox(label: string, testid: string): HTMLInputElement {
    const input = h('input', {
      className: 'mz-Form-input mz-SharesView-filter',
      testid,
      attrs: { type: 'search', placeholder: label, 'aria-label': label }
    });
    input.addEventListener('input', () => this._render());
    return input;
  }

  private _render(): void {
    this._renderWith();
    this._renderBy();
  }

  private _renderWith(): void {
    const { model, trans } = this._options;
    const state = model.received;
    if (state.error) {
      this._withList.replaceChildren(
        h('li', {}, errorBox({ title: trans.__('Cannot list the shares with you'), message: state.error }))
      );
      return;
    }
    if (!state.loaded) {
      this._withList.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('Loading…')));
      return;
    }
    const filter = this._withFilter.value.trim().toLowerCase();
    const showHidden = this._showHidden.checked;
    const order = { pending: 0, accepted: 1, rejected: 2 } as const;
    const items = state.items
      .filter(s => showHidden || !s.hidden)
      .filter(
        s =>
          !filter ||
          [s.resource.name, s.owner.name, s.owner.display_name, s.role, s.state]
            .join(' ')
            .toLowerCase()
            .includes(filter)
      )
      .sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3));
    if (items.length === 0) {
      this._withList.replaceChildren(
        h(
          'li',
          { className: 'mz-Empty' },
          state.items.length ? trans.__('No share matches.') : trans.__('Nothing is shared with you.')
        )
      );
      return;
    }
    this._withList.replaceChildren(...items.map(share => this._receivedRow(share)));
  }

  private _receivedRow(share: IReceivedShare): HTMLElement {
    const { model, trans } = this._options;
    const act = (action: () => Promise<unknown>, done: string) => async () => {
      try {
        await action();
        Notification.success(done, { autoClose: 3000 });
      } catch (error) {
        Notification.error((error as Error).message, { autoClose: 6000 });
      }
    };
    const name = share.resource.name;
    const actions: HTMLElement[] = [];
    if (share.state === 'pending' || share.state === 'rejected') {
      actions.push(
        button(trans.__('Accept'), {
          primary: true,
          testid: 'mz-received-accept',
          onClick: act(() => model.respond(share.id, 'accepted'), trans.__('Accepted “%1”', name))
        })
      );
    }
    if (share.state === 'accepted') {
      actions.push(
        button(trans.__('Open'), {
          primary: true,
          testid: 'mz-received-open',
          title: trans.__('Show it in the file browser'),
          onClick: () => this._options.open(share)
        })
      );
      // publishing notes the record on the folder: only who may change it
      const publish =
        share.resource.type === 'directory' && (share.role === 'editor' || share.role === 'manager')
          ? publishButton(this._options.publish, mountPath(share), trans, 'mz-received-publish')
          : null;
      if (publish) {
        actions.push(publish);
      }
    }
    if (share.state !== 'rejected') {
      actions.push(
        button(trans.__('Decline'), {
          testid: 'mz-received-decline',
          onClick: act(() => model.respond(share.id, 'rejected'), trans.__('Declined “%1”', name))
        })
      );
    }
    actions.push(
      button(share.hidden ? trans.__('Show') : trans.__('Hide'), {
        testid: share.hidden ? 'mz-received-unhide' : 'mz-received-hide',
        onClick: act(
          () => model.setHidden(share.id, !share.hidden),
          share.hidden ? trans.__('“%1” is shown again', name) : trans.__('“%1” is hidden', name)
        )
      })
    );
    return h(
      'li',
      {
        className: `mz-SharesView-item mz-mod-${share.state}${share.hidden ? ' mz-mod-hidden' : ''}`,
        testid: 'mz-received',
        attrs: { 'data-state': share.state, 'data-name': name, 'data-id': share.id }
      },
      h(
        'div',
        { className: 'mz-SharesView-line' },
        h('span', { className: 'mz-SharesView-name', title: share.resource.path }, name),
        h('span', { className: `mz-Badge mz-SharesView-state mz-mod-${share.state}` }, stateLabel(share.state, trans))
      ),
      h(
        'div',
        { className: 'mz-SharesView-meta' },
        trans.__('From %1 · %2', granteeLabel(share.owner, trans), roleLabel(share.role, trans)),
        share.expiration ? ` · ${trans.__('expires %1', formatDate(share.expiration, trans))}` : ''
      ),
      h('div', { className: 'mz-SharesView-actions' }, ...actions)
    );
  }

  private _renderBy(): void {
    const { model, trans } = this._options;
    const state = model.mine;
    if (state.error) {
      this._byList.replaceChildren(
        h('li', {}, errorBox({ title: trans.__('Cannot list your shares'), message: state.error }))
      );
      return;
    }
    if (!state.loaded) {
      this._byList.replaceChildren(h('li', { className: 'mz-Empty' }, trans.__('Loading…')));
      return;
    }
    const filter = this._byFilter.value.trim().toLowerCase();
    // one entry per shared file or folder, with its grantees
    const byResource = new Map<string, IShare[]>();
    for (const share of state.items) {
      const key = share.resource.api_path ?? share.resource.path;
      byResource.set(key, [...(byResource.get(key) ?? []), share]);
    }
    const entries = Array.from(byResource.entries()).filter(
      ([key, shares]) =>
        !filter ||
        [key, ...shares.map(s => `${s.grantee.name} ${s.grantee.display_name} ${s.role}`)]
          .join(' ')
          .toLowerCase()
          .includes(filter)
    );
    if (entries.length === 0) {
      this._byList.replaceChildren(
        h(
          'li',
          { className: 'mz-Empty' },
          state.items.length ? trans.__('No share matches.') : trans.__('You have not shared anything.')
        )
      );
      return;
    }
    this._byList.replaceChildren(
      ...entries.map(([key, shares]) => {
        const resource = shares[0].resource;
        const path = resource.api_path;
        return h(
          'li',
          {
            className: 'mz-SharesView-item',
            testid: 'mz-shared',
            attrs: { 'data-name': resource.name }
          },
          h(
            'div',
            { className: 'mz-SharesView-line' },
            h('span', { className: 'mz-SharesView-name', title: key }, resource.name)
          ),
          h(
            'ul',
            { className: 'mz-SharesView-grantees' },
            ...shares.map(s =>
              h(
                'li',
                { className: 'mz-SharesView-meta', testid: 'mz-shared-grantee' },
                `${granteeLabel(s.grantee, trans)} · ${roleLabel(s.role, trans)}`,
                s.expiration ? ` · ${trans.__('expires %1', formatDate(s.expiration, trans))}` : ''
              )
            )
          ),
          h(
            'div',
            { className: 'mz-SharesView-actions' },
            button(trans.__('Manage'), {
              testid: 'mz-shared-manage',
              disabled: !path,
              title: path ? trans.__('Roles, expiry, removal') : trans.__('Not in Lab’s file tree'),
              onClick: () => path && this._options.manage(path)
            }),
            resource.type === 'directory'
              ? publishButton(this._options.publish, path, trans, 'mz-shared-publish')
              : null
          )
        );
      })
    );
  }

  private _options: ISharesViewOptions;
  private _withFilter: HTMLInputElement;
  private _byFilter: HTMLInputElement;
  private _showHidden: HTMLInputElement;
  private _withList: HTMLElement;
  private _byList: HTMLElement;
}

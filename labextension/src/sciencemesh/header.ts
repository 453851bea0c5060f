import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';
import { errorBox } from '../feedback';
import {
  ICS3Session,
  ISessionFailure,
  ISessionInfo,
  IStorageInfo,
  SessionState
} from '../tokens';

/**
 * Shows who is signed in and which storage the server uses, or why not.
 */
export class SessionHeader extends Widget {
  constructor(session: ICS3Session, trans: TranslationBundle) {
    super();
    this.addClass('mz-SessionHeader');
    this.node.setAttribute('aria-live', 'polite');
    this._session = session;
    this._trans = trans;
    session.stateChanged.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._session.stateChanged.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const state: SessionState = this._session.state;
    const node = this.node;
    node.replaceChildren();
    node.dataset.state = state.kind;
    switch (state.kind) {
      case 'idle':
      case 'loading':
        node.append(
          h('div', { className: 'mz-SessionHeader-loading' }, this._trans.__('Connecting to ScienceMesh…'))
        );
        break;
      case 'connected':
        node.append(...this._renderSession(state.session));
        break;
      case 'error':
        node.append(this._renderFailure(state.failure));
        break;
    }
  }

  private _renderSession(session: ISessionInfo): HTMLElement[] {
    const trans = this._trans;
    const { user, storage } = session;
    const account = user.idp ? `${user.username}@${user.idp}` : user.username;

    const userBox = h(
      'div',
      {
        className: 'mz-SessionHeader-user',
        testid: 'mz-session-user',
        title: user.opaque_id ? trans.__('CS3 user id: %1', user.opaque_id) : account
      },
      h('div', { className: 'mz-SessionHeader-name' }, user.display_name || user.username),
      h('div', { className: 'mz-SessionHeader-account' }, account),
      user.mail && h('div', { className: 'mz-SessionHeader-mail' }, user.mail)
    );

    const storageBox = h(
      'div',
      {
        className: 'mz-SessionHeader-storage',
        testid: 'mz-session-storage',
        title: storage.home ? trans.__('Home: %1', storage.home) : undefined
      },
      h('span', { className: 'mz-SessionHeader-kind' }, this._storageKind(storage)),
      h('span', { className: 'mz-SessionHeader-gateway' }, storage.gateway)
    );

    const parts = [userBox, storageBox];
    if (session.contents === 'local') {
      parts.push(
        h(
          'div',
          {
            className: 'mz-Notice mz-SessionHeader-notice',
            testid: 'mz-session-notice',
            attrs: { role: 'note' }
          },
          trans.__("Lab's files are on the server's local disk, not on the CS3 storage.")
        )
      );
    }
    return parts;
  }

  private _renderFailure(failure: ISessionFailure): HTMLElement {
    const trans = this._trans;
    let where: HTMLElement | null = null;
    if (failure.storage?.gateway) {
      const kind =
        failure.storage.embedded === undefined
          ? trans.__('Gateway')
          : this._storageKind(failure.storage as IStorageInfo);
      where = h(
        'div',
        { className: 'mz-SessionHeader-where' },
        h('span', { className: 'mz-SessionHeader-kind' }, trans.__('%1:', kind)),
        h('span', { className: 'mz-SessionHeader-gateway' }, failure.storage.gateway)
      );
    }
    const retry = button(trans.__('Retry'), {
      className: 'mz-SessionHeader-retry',
      testid: 'mz-session-retry',
      onClick: () => void this._session.refresh()
    });
    return errorBox(
      { title: trans.__('Not connected to ScienceMesh'), message: failure.message },
      { testid: 'mz-session-error', extra: [where, retry] }
    );
  }

  private _storageKind(storage: IStorageInfo): string {
    return storage.embedded
      ? this._trans.__('Embedded storage')
      : this._trans.__('CS3 gateway');
  }

  private _session: ICS3Session;
  private _trans: TranslationBundle;
}

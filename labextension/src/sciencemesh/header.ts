import { TranslationBundle } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';

import { button, h } from '../dom';
import { errorBox } from '../feedback';
import {
  ICS3Session,
  ILocalContents,
  ISessionFailure,
  ISessionInfo,
  IStorageInfo,
  KernelsInfo,
  SessionState
} from '../tokens';

/**
 * Shows who is signed in and which storage the server uses; that Lab's files
 * are on the local disk (a calm notice: nothing is wrong); or why the CS3
 * storage cannot be used (an error box with Retry).
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
      case 'local':
        node.append(this._renderLocal(state.local));
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
      user.mail && this._labelled('mail', trans.__('Mail:'), user.mail),
      this._labelled('account', trans.__('CS3 id:'), account)
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

    const kernels = session.kernels && this._renderKernels(session.kernels, storage);
    return kernels ? [userBox, storageBox, kernels] : [userBox, storageBox];
  }

  /**
   * Where kernels and terminals work: a quiet line when they start on the
   * storage (its FUSE mount), a warning when they start in a local folder.
   */
  private _renderKernels(kernels: KernelsInfo, storage: IStorageInfo): HTMLElement {
    const trans = this._trans;
    if (kernels.mounted) {
      return h(
        'div',
        {
          className: 'mz-SessionHeader-kernels mz-mod-mounted',
          testid: 'mz-session-kernels',
          title: trans.__('Mounted at %1', kernels.path)
        },
        trans.__('Kernels and terminals work on the storage')
      );
    }
    // one sentence to translate; its `quoted` parts (folder, URL) shown as code
    const home = (storage.home ?? '').replace(/^\/+/, '');
    const reason = kernels.reason.replace(/`/g, "'").replace(/[.\s]+$/, '');
    const where = trans.__(
      'Kernels and terminals start in `%1`, not on the storage: %2.',
      kernels.scratch,
      reason
    );
    const reach = home
      ? trans.__('In a kernel, `cs3://%1/…` still reaches your files.', home)
      : '';
    return h(
      'div',
      {
        className: 'mz-Notice mz-SessionHeader-notice mz-SessionHeader-kernels',
        testid: 'mz-session-kernels',
        attrs: { role: 'note' }
      },
      ...withCode(reach ? `${where} ${reach}` : where)
    );
  }

  /**
   * One line under the name: a label, then the value (cut with an ellipsis
   * when the sidebar is narrow; the whole value is its tooltip).
   */
  private _labelled(part: string, label: string, value: string): HTMLElement {
    return h(
      'div',
      { className: `mz-SessionHeader-${part}`, testid: `mz-session-${part}`, title: value },
      h('span', { className: 'mz-SessionHeader-label' }, label),
      ' ',
      h('span', { className: 'mz-SessionHeader-value' }, value)
    );
  }

  private _renderLocal(local: ILocalContents): HTMLElement {
    return h(
      'div',
      {
        className: 'mz-Notice mz-mod-info mz-SessionHeader-notice',
        testid: 'mz-session-notice',
        attrs: { role: 'note' }
      },
      h('div', { className: 'mz-Notice-title' }, this._trans.__('No CS3 storage in use')),
      h('div', { className: 'mz-Notice-message' }, ...withCode(local.message))
    );
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

/**
 * A message whose `quoted` parts (commands, settings) are shown as code.
 */
function withCode(message: string): (HTMLElement | string)[] {
  return message
    .split('`')
    .map((part, index) => (index % 2 ? h('code', {}, part) : part))
    .filter(part => part !== '');
}

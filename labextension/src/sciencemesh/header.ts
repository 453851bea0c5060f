import { Widget } from '@lumino/widgets';

import {
  ISessionFailure,
  ISessionInfo,
  IStorageInfo,
  SessionModel,
  SessionState
} from '../session';

/**
 * Shows who is signed in and which storage the server uses, or why not.
 */
export class SessionHeader extends Widget {
  constructor(model: SessionModel) {
    super();
    this.addClass('mz-SessionHeader');
    this.node.setAttribute('aria-live', 'polite');
    this._model = model;
    model.stateChanged.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.stateChanged.disconnect(this._render, this);
    super.dispose();
  }

  private _render(): void {
    const state: SessionState = this._model.state;
    const node = this.node;
    node.replaceChildren();
    node.dataset.state = state.kind;
    switch (state.kind) {
      case 'idle':
      case 'loading':
        node.append(
          el('div', 'mz-session-loading', 'Connecting to ScienceMesh…')
        );
        break;
      case 'connected':
        node.append(...renderSession(state.session));
        break;
      case 'error':
        node.append(
          renderFailure(state.failure, () => void this._model.refresh())
        );
        break;
    }
  }

  private _model: SessionModel;
}

function renderSession(session: ISessionInfo): HTMLElement[] {
  const { user, storage } = session;
  const account = user.idp ? `${user.username}@${user.idp}` : user.username;

  const userBox = el('div', 'mz-session-user');
  userBox.dataset.testid = 'mz-session-user';
  userBox.append(
    el('div', 'mz-session-name', user.display_name || user.username),
    el('div', 'mz-session-account', account)
  );
  if (user.mail) {
    userBox.append(el('div', 'mz-session-mail', user.mail));
  }
  userBox.title = user.opaque_id ? `CS3 user id: ${user.opaque_id}` : account;

  const storageBox = el('div', 'mz-session-storage');
  storageBox.dataset.testid = 'mz-session-storage';
  storageBox.append(
    el('span', 'mz-session-kind', storageKind(storage)),
    el('span', 'mz-session-gateway', storage.gateway)
  );
  if (storage.home) {
    storageBox.title = `Home: ${storage.home}`;
  }

  const parts = [userBox, storageBox];
  if (session.contents === 'local') {
    const notice = el(
      'div',
      'mz-session-notice',
      "Lab's files are on the server's local disk, not on the CS3 storage."
    );
    notice.dataset.testid = 'mz-session-notice';
    notice.setAttribute('role', 'note');
    parts.push(notice);
  }
  return parts;
}

function renderFailure(
  failure: ISessionFailure,
  retry: () => void
): HTMLElement {
  const box = el('div', 'mz-session-error');
  box.dataset.testid = 'mz-session-error';
  box.setAttribute('role', 'alert');

  box.append(
    el('div', 'mz-session-error-title', 'Not connected to ScienceMesh'),
    el('div', 'mz-session-error-message', failure.message)
  );
  if (failure.storage?.gateway) {
    const where = el('div', 'mz-session-error-gateway');
    const kind =
      failure.storage.embedded === undefined
        ? 'Gateway'
        : storageKind(failure.storage as IStorageInfo);
    where.append(
      el('span', 'mz-session-kind', `${kind}:`),
      el('span', 'mz-session-gateway', failure.storage.gateway)
    );
    box.append(where);
  }
  const button = el('button', 'mz-session-retry jp-Button', 'Retry');
  button.dataset.testid = 'mz-session-retry';
  (button as HTMLButtonElement).type = 'button';
  button.addEventListener('click', retry);
  box.append(button);
  return box;
}

function storageKind(storage: IStorageInfo): string {
  return storage.embedded ? 'Embedded storage' : 'CS3 gateway';
}

function el(tag: string, className: string, text?: string): HTMLElement {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

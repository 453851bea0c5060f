import { Widget } from '@lumino/widgets';

import { ILoginStatus, IZenodoFailure } from './api';
import { IZenodoContext } from './context';
import { button, externalLink, h, spinner } from './dom';
import { errorBox } from './feedback';
import { ZenodoModel } from './model';

const OTHER = 'other';

/**
 * The Login view: paste a personal access token, pick the server, sign in;
 * or see who is signed in and log out.
 *
 * The token input is a password field that is emptied after a sign-in; the
 * token is sent once to the Jupyter server and kept nowhere in the browser.
 */
export class LoginView extends Widget {
  constructor(context: IZenodoContext) {
    super();
    this.addClass('mz-ZenodoLogin');
    this.node.dataset.testid = 'mz-zenodo-login';
    this._model = context.model;

    this._statusBox = h('div', {
      className: 'mz-zenodo-login-status',
      testid: 'mz-zenodo-login-status',
      attrs: { 'aria-live': 'polite' }
    });

    // -- the form
    this._environment = h('select', {
      className: 'mz-zenodo-select',
      testid: 'mz-zenodo-environment',
      attrs: { id: 'mz-zenodo-environment' }
    });
    this._environment.append(
      option('zenodo', 'Zenodo (zenodo.org)'),
      option('sandbox', 'Zenodo sandbox (sandbox.zenodo.org)'),
      option(OTHER, 'Other InvenioRDM / Zenodo…')
    );
    this._environment.addEventListener('change', () => {
      this._environmentTouched = true;
      this._updateForm();
    });

    this._baseUrl = h('input', {
      className: 'mz-zenodo-input',
      testid: 'mz-zenodo-base-url',
      attrs: {
        id: 'mz-zenodo-base-url',
        type: 'url',
        placeholder: 'https://inveniordm.example.org',
        autocomplete: 'url',
        spellcheck: 'false'
      }
    });
    this._baseUrl.addEventListener('input', () => this._updateForm());
    this._baseUrlRow = h(
      'div',
      { className: 'mz-zenodo-field mz-zenodo-base-url-field' },
      h('label', { attrs: { for: 'mz-zenodo-base-url' } }, 'Base URL'),
      this._baseUrl
    );

    this._token = h('input', {
      className: 'mz-zenodo-input',
      testid: 'mz-zenodo-token',
      attrs: {
        id: 'mz-zenodo-token',
        type: 'password',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: 'Paste your token'
      }
    });
    this._token.addEventListener('input', () => this._updateForm());
    this._tokenHelp = h('div', { className: 'mz-zenodo-help' });

    this._remember = h('input', {
      testid: 'mz-zenodo-remember',
      attrs: { id: 'mz-zenodo-remember', type: 'checkbox' }
    });
    this._rememberRow = h(
      'div',
      { className: 'mz-zenodo-check' },
      this._remember,
      h(
        'label',
        {
          attrs: { for: 'mz-zenodo-remember' },
          title:
            'The Jupyter server keeps the token in a file only you can read, ' +
            'and signs you in again after a restart. Log out deletes it.'
        },
        'Remember me on this computer'
      )
    );

    this._submit = button('Log in', {
      primary: true,
      testid: 'mz-zenodo-login-button',
      className: 'mz-zenodo-login-button'
    });
    this._busy = h('div', { className: 'mz-zenodo-login-busy' });
    this._error = h('div', { className: 'mz-zenodo-login-error-slot' });

    // Not a <form>: a browser's password manager offers to save what is
    // submitted through one, and the token must not end up there.
    this._form = h(
      'div',
      {
        className: 'mz-zenodo-login-form',
        testid: 'mz-zenodo-login-form',
        attrs: { role: 'group', 'aria-label': 'Log in to Zenodo' }
      },
      h(
        'div',
        { className: 'mz-zenodo-field' },
        h('label', { attrs: { for: 'mz-zenodo-environment' } }, 'Zenodo server'),
        this._environment
      ),
      this._baseUrlRow,
      h(
        'div',
        { className: 'mz-zenodo-field' },
        h('label', { attrs: { for: 'mz-zenodo-token' } }, 'Personal access token'),
        this._token,
        this._tokenHelp
      ),
      this._rememberRow,
      h('div', { className: 'mz-zenodo-actions' }, this._submit, this._busy)
    );
    this._submit.addEventListener('click', () => void this._signIn());
    this._form.addEventListener('keydown', event => {
      if (event.key === 'Enter' && event.target instanceof HTMLInputElement) {
        event.preventDefault();
        void this._signIn();
      }
    });

    this.node.append(
      h(
        'div',
        { className: 'mz-zenodo-view-scroll' },
        this._statusBox,
        this._form,
        this._error
      )
    );

    this._model.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._render, this);
    super.dispose();
  }

  private _target(): { environment?: string; base_url?: string } {
    const env = this._environment.value;
    return env === OTHER
      ? { base_url: this._baseUrl.value.trim() }
      : { environment: env };
  }

  private _targetUrl(): string {
    const env = this._environment.value;
    if (env === OTHER) {
      return this._baseUrl.value.trim().replace(/\/+$/, '').replace(/\/api$/, '');
    }
    return (
      this._model.status?.environments?.[env] ??
      (env === 'sandbox' ? 'https://sandbox.zenodo.org' : 'https://zenodo.org')
    );
  }

  private async _signIn(): Promise<void> {
    const token = this._token.value.trim();
    if (!token || this._signingIn || this._submit.disabled) {
      return;
    }
    // the token leaves the page now: only the server keeps it
    this._token.value = '';
    this._signingIn = true;
    this._error.replaceChildren();
    this._busy.replaceChildren(spinner('Checking the token…', 'mz-zenodo-login-spinner'));
    this._updateForm();
    try {
      await this._model.signIn(token, this._target(), this._remember.checked);
      this._remember.checked = false;
    } catch (error) {
      this._showError(error as IZenodoFailure);
    } finally {
      this._signingIn = false;
      this._busy.replaceChildren();
      this._updateForm();
    }
  }

  private async _signOut(): Promise<void> {
    this._error.replaceChildren();
    try {
      await this._model.signOut();
    } catch (error) {
      this._showError(error as IZenodoFailure);
    }
  }

  private _showError(failure: IZenodoFailure): void {
    const title =
      failure.reason === 'InvalidToken'
        ? 'Invalid token'
        : failure.reason === 'MissingScope'
          ? 'The token lacks the deposit scopes'
          : undefined;
    this._error.replaceChildren(
      errorBox(failure, { testid: 'mz-zenodo-login-error', title })
    );
  }

  private _render(): void {
    const status = this._model.status;
    const failure = this._model.statusFailure;
    const box = this._statusBox;
    box.replaceChildren();

    if (!status && !failure) {
      box.append(spinner('Asking the server who is signed in…'));
    } else if (failure && !status) {
      box.append(errorBox(failure, { testid: 'mz-zenodo-status-error' }));
    } else if (status) {
      if (!this._environmentTouched) {
        this._preselect(status);
      }
      if (status.connected) {
        box.append(this._renderConnected(status));
      } else {
        box.dataset.state = 'signed-out';
        box.append(
          h(
            'div',
            { className: 'mz-zenodo-signed-out', testid: 'mz-zenodo-signed-out' },
            h('div', { className: 'mz-zenodo-status-title' }, 'Not logged in to Zenodo'),
            h(
              'div',
              { className: 'mz-zenodo-help' },
              'Searching and downloading public records works without logging in. ' +
                'Log in with a personal access token to reach your own and restricted records.'
            )
          )
        );
        if (status.message) {
          box.append(
            h(
              'div',
              { className: 'mz-zenodo-notice', testid: 'mz-zenodo-login-notice', attrs: { role: 'note' } },
              status.message
            )
          );
        }
      }
      this._form.hidden = status.connected;
      this._rememberRow.hidden = !status.remember_allowed;
    }
    this._updateForm();
  }

  private _renderConnected(status: ILoginStatus): HTMLElement {
    this._statusBox.dataset.state = 'connected';
    const where = externalLink(status.base_url, status.base_url, {
      className: 'mz-zenodo-status-url',
      testid: 'mz-zenodo-connected-url'
    });
    const account = status.account?.user_id
      ? `Zenodo user ${status.account.user_id}`
      : 'Account checked (Zenodo does not reveal its name)';
    const logout = button('Log out', {
      testid: 'mz-zenodo-logout',
      className: 'mz-zenodo-logout',
      onClick: () => void this._signOut()
    });
    return h(
      'div',
      { className: 'mz-zenodo-connected', testid: 'mz-zenodo-connected' },
      h(
        'div',
        { className: 'mz-zenodo-status-title' },
        h('span', { className: 'mz-zenodo-dot', attrs: { 'aria-hidden': 'true' } }),
        `Connected to ${environmentName(status)}`
      ),
      where,
      h('div', { className: 'mz-zenodo-status-account', testid: 'mz-zenodo-account' }, account),
      h(
        'div',
        { className: 'mz-zenodo-status-flags' },
        status.verified
          ? h('span', { className: 'mz-zenodo-badge' }, status.deposit ? 'Can publish' : 'Read only')
          : h('span', { className: 'mz-zenodo-badge mz-mod-warn' }, 'Not checked yet'),
        status.remembered &&
          h('span', { className: 'mz-zenodo-badge', testid: 'mz-zenodo-remembered' }, 'Remembered on this computer')
      ),
      status.message &&
        h('div', { className: 'mz-zenodo-notice', attrs: { role: 'note' } }, status.message),
      h('div', { className: 'mz-zenodo-actions' }, logout)
    );
  }

  private _preselect(status: ILoginStatus): void {
    const url = status.connected ? status.base_url : status.default_base_url;
    const env = Object.entries(status.environments ?? {}).find(([, u]) => u === url)?.[0];
    if (env === 'zenodo' || env === 'sandbox') {
      this._environment.value = env;
    } else {
      this._environment.value = OTHER;
      if (!this._baseUrl.value) {
        this._baseUrl.value = url;
      }
    }
  }

  private _updateForm(): void {
    const other = this._environment.value === OTHER;
    this._baseUrlRow.hidden = !other;
    const url = this._targetUrl();
    const newToken = /^https?:\/\/[^/]/.test(url)
      ? `${url}/account/settings/applications/tokens/new/`
      : null;
    this._tokenHelp.replaceChildren(
      'Create a token with the deposit:write and deposit:actions scopes',
      ...(newToken ? [' at ', externalLink(newToken, 'Applications → Personal access tokens')] : []),
      '. It is checked at once and kept only by the Jupyter server.'
    );
    const ready =
      this._token.value.trim().length > 0 &&
      (!other || this._baseUrl.value.trim().length > 0);
    this._submit.disabled = !ready || this._signingIn;
    this._token.disabled = this._signingIn;
  }

  private _model: ZenodoModel;
  private _statusBox: HTMLElement;
  private _form: HTMLElement;
  private _environment: HTMLSelectElement;
  private _environmentTouched = false;
  private _baseUrl: HTMLInputElement;
  private _baseUrlRow: HTMLElement;
  private _token: HTMLInputElement;
  private _tokenHelp: HTMLElement;
  private _remember: HTMLInputElement;
  private _rememberRow: HTMLElement;
  private _submit: HTMLButtonElement;
  private _busy: HTMLElement;
  private _error: HTMLElement;
  private _signingIn = false;
}

function option(value: string, label: string): HTMLOptionElement {
  const node = h('option', {}, label);
  node.value = value;
  return node;
}

/**
 * "Zenodo", "the Zenodo sandbox" or the host of another server.
 */
export function environmentName(status: { base_url: string; environment: string }): string {
  if (status.environment === 'zenodo') {
    return 'Zenodo';
  }
  if (status.environment === 'sandbox') {
    return 'the Zenodo sandbox';
  }
  try {
    return new URL(status.base_url).host;
  } catch {
    return status.base_url;
  }
}

import { TranslationBundle } from '@jupyterlab/translation';
import { ISignal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import { button, externalLink, h, select, spinner } from '../dom';
import { errorBox } from '../feedback';
import { IZenodoSettings } from '../settings';
import { IZenodoContext } from '../tokens';
import { ILoginStatus } from './api';
import { describeFailure, IZenodoFailure } from './failure';
import { ZenodoModel } from './model';

const OTHER = 'other';

export namespace LoginView {
  export interface IOptions {
    /**
     * Whether publishing is possible in this Lab (the Upload tab is there and
     * enabled); the "Can publish" badge shows only then.
     */
    publishing?: { available: () => boolean; changed: ISignal<unknown, void> };
  }
}

/**
 * The Login view: paste a personal access token, pick the server, sign in;
 * or see who is signed in and log out.
 *
 * The token input is a password field that is emptied after a sign-in; the
 * token is sent once to the Jupyter server and kept nowhere in the browser.
 */
export class LoginView extends Widget {
  constructor(context: IZenodoContext, options: LoginView.IOptions = {}) {
    super();
    this._publishing = options.publishing ?? null;
    this.addClass('mz-ZenodoLogin');
    this.node.dataset.testid = 'mz-zenodo-login';
    this._model = context.model;
    this._settings = context.settings;
    const trans = (this._trans = context.translator.load('mesh_zenodo'));

    this._statusBox = h('div', {
      className: 'mz-ZenodoLogin-status',
      testid: 'mz-zenodo-login-status',
      attrs: { 'aria-live': 'polite' }
    });

    // -- the form
    this._environment = select(
      [
        ['zenodo', trans.__('Zenodo (zenodo.org)')],
        ['sandbox', trans.__('Zenodo sandbox (sandbox.zenodo.org)')],
        [OTHER, trans.__('Other InvenioRDM / Zenodo…')]
      ],
      { testid: 'mz-zenodo-environment', attrs: { id: 'mz-zenodo-environment' } }
    );
    this._environment.addEventListener('change', () => {
      this._environmentTouched = true;
      this._updateForm();
    });

    this._baseUrl = h('input', {
      className: 'mz-Form-input',
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
      { className: 'mz-Form-field mz-ZenodoLogin-baseUrlField' },
      h('label', { attrs: { for: 'mz-zenodo-base-url' } }, trans.__('Base URL')),
      this._baseUrl
    );

    this._token = h('input', {
      className: 'mz-Form-input',
      testid: 'mz-zenodo-token',
      attrs: {
        id: 'mz-zenodo-token',
        type: 'password',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: trans.__('Paste your token')
      }
    });
    this._token.addEventListener('input', () => this._updateForm());
    this._tokenHelp = h('div', { className: 'mz-Form-help mz-ZenodoLogin-tokenHelp' });

    this._remember = h('input', {
      testid: 'mz-zenodo-remember',
      attrs: { id: 'mz-zenodo-remember', type: 'checkbox' }
    });
    this._rememberRow = h(
      'div',
      { className: 'mz-Form-check' },
      this._remember,
      h(
        'label',
        {
          attrs: { for: 'mz-zenodo-remember' },
          title: trans.__(
            'The Jupyter server keeps the token in a file only you can read, ' +
              'and signs you in again after a restart. Log out deletes it.'
          )
        },
        trans.__('Remember me on this computer')
      )
    );

    this._submit = button(trans.__('Log in'), {
      primary: true,
      testid: 'mz-zenodo-login-button',
      className: 'mz-ZenodoLogin-submit'
    });
    this._busy = h('div', { className: 'mz-ZenodoLogin-busy' });
    this._error = h('div', { className: 'mz-ZenodoLogin-errorSlot' });

    // Not a <form>: a browser's password manager offers to save what is
    // submitted through one, and the token must not end up there.
    this._form = h(
      'div',
      {
        className: 'mz-ZenodoLogin-form',
        testid: 'mz-zenodo-login-form',
        attrs: { role: 'group', 'aria-label': trans.__('Log in to Zenodo') }
      },
      h(
        'div',
        { className: 'mz-Form-field' },
        h('label', { attrs: { for: 'mz-zenodo-environment' } }, trans.__('Zenodo server')),
        this._environment
      ),
      this._baseUrlRow,
      h(
        'div',
        { className: 'mz-Form-field' },
        h('label', { attrs: { for: 'mz-zenodo-token' } }, trans.__('Personal access token')),
        this._token,
        this._tokenHelp
      ),
      this._rememberRow,
      h('div', { className: 'mz-Form-actions' }, this._submit, this._busy)
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
        { className: 'mz-ZenodoLogin-scroll' },
        this._statusBox,
        this._form,
        this._error
      )
    );

    this._model.changed.connect(this._render, this);
    this._publishing?.changed.connect(this._render, this);
    this._render();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._model.changed.disconnect(this._render, this);
    this._publishing?.changed.disconnect(this._render, this);
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
    this._busy.replaceChildren(
      spinner(this._trans.__('Checking the token…'), 'mz-zenodo-login-spinner')
    );
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
    const trans = this._trans;
    const title =
      failure.reason === 'InvalidToken'
        ? trans.__('Invalid token')
        : failure.reason === 'MissingScope'
          ? trans.__('The token lacks the deposit scopes')
          : undefined;
    this._error.replaceChildren(
      errorBox(describeFailure(failure, trans, title), { testid: 'mz-zenodo-login-error' })
    );
  }

  private _render(): void {
    const trans = this._trans;
    const status = this._model.status;
    const failure = this._model.statusFailure;
    const box = this._statusBox;
    box.replaceChildren();

    if (!status && !failure) {
      box.append(spinner(trans.__('Asking the server who is signed in…')));
    } else if (failure && !status) {
      box.append(
        errorBox(describeFailure(failure, trans), { testid: 'mz-zenodo-status-error' })
      );
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
            { className: 'mz-ZenodoLogin-signedOut', testid: 'mz-zenodo-signed-out' },
            h('div', { className: 'mz-ZenodoLogin-statusTitle' }, trans.__('Not logged in to Zenodo')),
            h(
              'div',
              { className: 'mz-Form-help' },
              trans.__(
                'Searching and downloading public records works without logging in. ' +
                  'Log in with a personal access token to reach your own and restricted records.'
              )
            )
          )
        );
        if (status.message) {
          box.append(
            h(
              'div',
              { className: 'mz-Notice', testid: 'mz-zenodo-login-notice', attrs: { role: 'note' } },
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
    const trans = this._trans;
    this._statusBox.dataset.state = 'connected';
    const where = externalLink(status.base_url, status.base_url, {
      className: 'mz-ZenodoLogin-url',
      testid: 'mz-zenodo-connected-url'
    });
    const account = status.account?.user_id
      ? trans.__('Zenodo user %1', status.account.user_id)
      : trans.__('Account checked (Zenodo does not reveal its name)');
    const logout = button(trans.__('Log out'), {
      testid: 'mz-zenodo-logout',
      className: 'mz-ZenodoLogin-logout',
      onClick: () => void this._signOut()
    });
    return h(
      'div',
      { className: 'mz-ZenodoLogin-connected', testid: 'mz-zenodo-connected' },
      h(
        'div',
        { className: 'mz-ZenodoLogin-statusTitle' },
        h('span', { className: 'mz-ZenodoLogin-dot', attrs: { 'aria-hidden': 'true' } }),
        trans.__('Connected to %1', environmentName(status, trans))
      ),
      where,
      h('div', { className: 'mz-ZenodoLogin-account', testid: 'mz-zenodo-account' }, account),
      h(
        'div',
        { className: 'mz-ZenodoLogin-flags' },
        !status.verified
          ? h('span', { className: 'mz-Badge mz-mod-warn' }, trans.__('Not checked yet'))
          : !status.deposit
            ? h('span', { className: 'mz-Badge', testid: 'mz-zenodo-read-only' }, trans.__('Read only'))
            : // only where publishing is possible (the token may, and the Upload tab is there)
              this._publishing?.available() &&
              h('span', { className: 'mz-Badge', testid: 'mz-zenodo-can-publish' }, trans.__('Can publish')),
        status.remembered &&
          h(
            'span',
            { className: 'mz-Badge', testid: 'mz-zenodo-remembered' },
            trans.__('Remembered on this computer')
          )
      ),
      status.message &&
        h('div', { className: 'mz-Notice', attrs: { role: 'note' } }, status.message),
      h('div', { className: 'mz-Form-actions' }, logout)
    );
  }

  private _preselect(status: ILoginStatus): void {
    const { defaultEnvironment, defaultBaseUrl } = this._settings.composite;
    if (!status.connected && defaultEnvironment) {
      // the user's setting, over the server's default
      this._environment.value = defaultEnvironment;
      if (defaultEnvironment === OTHER && !this._baseUrl.value) {
        this._baseUrl.value = defaultBaseUrl || status.default_base_url;
      }
      return;
    }
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
    const trans = this._trans;
    const other = this._environment.value === OTHER;
    this._baseUrlRow.hidden = !other;
    const url = this._targetUrl();
    const newToken = /^https?:\/\/[^/]/.test(url)
      ? `${url}/account/settings/applications/tokens/new/`
      : null;
    const link = newToken
      ? externalLink(newToken, trans.__('Applications → Personal access tokens'))
      : null;
    const [before, after] = (
      link
        ? trans.__(
            'Create a token with the deposit:write and deposit:actions scopes at %1. It is checked at once and kept only by the Jupyter server.',
            '\u0000'
          )
        : trans.__(
            'Create a token with the deposit:write and deposit:actions scopes. It is checked at once and kept only by the Jupyter server.'
          )
    ).split('\u0000');
    this._tokenHelp.replaceChildren(before, ...(link ? [link, after ?? ''] : []));
    const ready =
      this._token.value.trim().length > 0 &&
      (!other || this._baseUrl.value.trim().length > 0);
    this._submit.disabled = !ready || this._signingIn;
    this._token.disabled = this._signingIn;
  }

  private _publishing: LoginView.IOptions['publishing'] | null;
  private _model: ZenodoModel;
  private _settings: { readonly composite: Readonly<IZenodoSettings> };
  private _trans: TranslationBundle;
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

/**
 * "Zenodo", "the Zenodo sandbox" or the host of another server.
 */
export function environmentName(
  status: { base_url: string; environment: string },
  trans: TranslationBundle
): string {
  if (status.environment === 'zenodo') {
    return trans.__('Zenodo');
  }
  if (status.environment === 'sandbox') {
    return trans.__('the Zenodo sandbox');
  }
  try {
    return new URL(status.base_url).host;
  } catch {
    return status.base_url;
  }
}

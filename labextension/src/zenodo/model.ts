import { ISignal, Signal } from '@lumino/signaling';

import { ILoginStatus, ZenodoAPI } from './api';
import { IZenodoFailure, toFailure } from './failure';

/**
 * The Zenodo sign-in as the server reports it, shared by the panel's views.
 *
 * The token itself never stays in the browser: it goes to the server once,
 * in the body of the sign-in request, and is forgotten here.
 */
export class ZenodoModel {
  constructor(readonly api: ZenodoAPI) {}

  /**
   * The last status the server reported, `null` before the first answer.
   */
  get status(): ILoginStatus | null {
    return this._status;
  }

  /**
   * Why the status could not be read (the Zenodo API is missing...), else null.
   */
  get statusFailure(): IZenodoFailure | null {
    return this._statusFailure;
  }

  /**
   * The Zenodo server searches and pulls go to: the signed-in one, else the
   * server's default one. `undefined` before the first status.
   */
  get baseUrl(): string | undefined {
    return this._status?.base_url;
  }

  /**
   * Emitted when the status changes.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * Ask the server for the status (it checks a remembered token on the way).
   */
  refresh(): Promise<void> {
    if (!this._pending) {
      this._pending = this.api
        .loginStatus()
        .then(
          status => this._set(status, null),
          error => this._set(this._status, toFailure(error))
        )
        .finally(() => {
          this._pending = null;
        });
    }
    return this._pending;
  }

  /**
   * Sign in; throws an `IZenodoFailure` with the server's message.
   */
  async signIn(
    token: string,
    target: { environment?: string; base_url?: string },
    remember: boolean
  ): Promise<ILoginStatus> {
    try {
      const status = await this.api.signIn({ token, remember, ...target });
      this._set(status, null);
      return status;
    } catch (error) {
      throw toFailure(error);
    }
  }

  /**
   * Sign out: the server forgets the token (and its "remember me" file).
   */
  async signOut(): Promise<ILoginStatus> {
    try {
      const status = await this.api.signOut();
      this._set(status, null);
      return status;
    } catch (error) {
      throw toFailure(error);
    }
  }

  private _set(status: ILoginStatus | null, failure: IZenodoFailure | null): void {
    this._status = status;
    this._statusFailure = failure;
    this._changed.emit();
  }

  private _status: ILoginStatus | null = null;
  private _statusFailure: IZenodoFailure | null = null;
  private _pending: Promise<void> | null = null;
  private _changed = new Signal<this, void>(this);
}

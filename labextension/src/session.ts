import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, requestAPI } from './request';
import {
  ICS3Session,
  ILocalContents,
  ISessionFailure,
  ISessionInfo,
  SessionState
} from './tokens';

/**
 * Fetch the session of the CS3 user the server acts for: the session, the
 * notice that Lab's files are local (a 200 without a session), or why there
 * is none.
 */
export async function fetchSession(
  serverSettings: ServerConnection.ISettings,
  trans: TranslationBundle = nullTranslator.load('mesh_zenodo')
): Promise<SessionState> {
  let info: ISessionInfo | ILocalContents;
  try {
    info = await requestAPI<ISessionInfo | ILocalContents>('session', serverSettings);
  } catch (error) {
    return { kind: 'error', failure: Private.toFailure(error, trans) };
  }
  if (info && info.connected === false && info.contents === 'local') {
    return { kind: 'local', local: info };
  }
  const session = info as ISessionInfo;
  return {
    kind: 'connected',
    session: { ...session, connected: true, kernels: session.kernels ?? null }
  };
}

/**
 * The `ICS3Session` of the plugin: holds the current session and tells
 * listeners when it changes.
 */
export class SessionModel implements ICS3Session {
  constructor(
    serverSettings: ServerConnection.ISettings,
    trans: TranslationBundle = nullTranslator.load('mesh_zenodo')
  ) {
    this._serverSettings = serverSettings;
    this._trans = trans;
  }

  get state(): SessionState {
    return this._state;
  }

  get session(): ISessionInfo | null {
    return this._state.kind === 'connected' ? this._state.session : null;
  }

  get stateChanged(): ISignal<this, SessionState> {
    return this._stateChanged;
  }

  refresh(): Promise<void> {
    if (!this._pending) {
      this._setState({ kind: 'loading' });
      this._pending = fetchSession(this._serverSettings, this._trans)
        .then(state => this._setState(state))
        .finally(() => {
          this._pending = null;
        });
    }
    return this._pending;
  }

  private _setState(state: SessionState): void {
    this._state = state;
    this._stateChanged.emit(state);
  }

  private _serverSettings: ServerConnection.ISettings;
  private _trans: TranslationBundle;
  private _state: SessionState = { kind: 'idle' };
  private _pending: Promise<void> | null = null;
  private _stateChanged = new Signal<this, SessionState>(this);
}

/**
 * A short heading for why there is no session (the same words in the
 * notification, the panel's header and My Files).
 */
export function failureTitle(failure: ISessionFailure, trans: TranslationBundle): string {
  if (failure.status === 401) {
    return trans.__('The CS3 storage refused the sign-in');
  }
  if (failure.status === 0) {
    return trans.__('The Jupyter server cannot be reached');
  }
  if (failure.status === 503 || failure.contents === 'cs3') {
    return trans.__('The CS3 storage cannot be reached');
  }
  return trans.__('Not connected to ScienceMesh');
}

namespace Private {
  export function toFailure(error: unknown, trans: TranslationBundle): ISessionFailure {
    if (error instanceof APIError) {
      const body = error.body as Partial<ISessionFailure> | null;
      if (body && typeof body === 'object' && body.connected === false) {
        return {
          connected: false,
          message: body.message || error.message,
          storage: body.storage,
          status: error.status,
          contents: body.contents === 'cs3' ? 'cs3' : undefined
        };
      }
      if (error.status === 404) {
        return {
          connected: false,
          message: trans.__(
            'The mesh_zenodo server extension is not enabled on this Jupyter server.'
          ),
          status: 404
        };
      }
      return { connected: false, message: error.message, status: error.status };
    }
    if (error instanceof ServerConnection.NetworkError) {
      return {
        connected: false,
        message: trans.__('The Jupyter server cannot be reached.'),
        status: 0
      };
    }
    return {
      connected: false,
      message: error instanceof Error ? error.message : String(error),
      status: 0
    };
  }
}

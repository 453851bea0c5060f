import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { APIError, requestAPI } from './request';

/**
 * The signed-in CS3 user, as `GET /mesh-zenodo/session` reports it.
 */
export interface ICS3User {
  username: string;
  display_name: string;
  mail: string;
  idp: string;
  opaque_id: string;
}

/**
 * The CS3 storage the server is connected to.
 */
export interface IStorageInfo {
  /** Address of the CS3 gateway, e.g. `127.0.0.1:19000`. */
  gateway: string;
  /** Whether the storage is the one the extension embeds (vs. an external gateway). */
  embedded: boolean;
  /** The user's home path on the storage. */
  home?: string;
}

/**
 * A 200 answer of the session endpoint.
 */
export interface ISessionInfo {
  connected: true;
  user: ICS3User;
  storage: IStorageInfo;
  /** Which contents manager serves Lab's files: the CS3 one or local disk. */
  contents: 'cs3' | 'local';
}

/**
 * Why there is no session (a 401/503 answer, or no answer at all).
 */
export interface ISessionFailure {
  connected: false;
  message: string;
  storage?: Partial<IStorageInfo>;
  /** The HTTP status, or 0 when the Jupyter server could not be reached. */
  status: number;
}

/**
 * The state of a session model.
 */
export type SessionState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'connected'; session: ISessionInfo }
  | { kind: 'error'; failure: ISessionFailure };

/**
 * Fetch the session of the CS3 user the server acts for.
 */
export async function fetchSession(
  serverSettings: ServerConnection.ISettings
): Promise<ISessionInfo | ISessionFailure> {
  try {
    const info = await requestAPI<ISessionInfo>('session', serverSettings);
    return { ...info, connected: true };
  } catch (error) {
    return Private.toFailure(error);
  }
}

/**
 * Holds the current session and tells listeners when it changes.
 *
 * One model is shared by every panel that needs to know who is signed in.
 */
export class SessionModel {
  constructor(serverSettings: ServerConnection.ISettings) {
    this._serverSettings = serverSettings;
  }

  /**
   * The current state.
   */
  get state(): SessionState {
    return this._state;
  }

  /**
   * The session when connected, else `null`.
   */
  get session(): ISessionInfo | null {
    return this._state.kind === 'connected' ? this._state.session : null;
  }

  /**
   * Emitted whenever `state` changes.
   */
  get stateChanged(): ISignal<this, SessionState> {
    return this._stateChanged;
  }

  /**
   * (Re)load the session; concurrent calls share one request.
   */
  refresh(): Promise<void> {
    if (!this._pending) {
      this._setState({ kind: 'loading' });
      this._pending = fetchSession(this._serverSettings)
        .then(result => {
          this._setState(
            result.connected
              ? { kind: 'connected', session: result }
              : { kind: 'error', failure: result }
          );
        })
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
  private _state: SessionState = { kind: 'idle' };
  private _pending: Promise<void> | null = null;
  private _stateChanged = new Signal<this, SessionState>(this);
}

namespace Private {
  export function toFailure(error: unknown): ISessionFailure {
    if (error instanceof APIError) {
      const body = error.body as Partial<ISessionFailure> | null;
      if (body && typeof body === 'object' && body.connected === false) {
        return {
          connected: false,
          message: body.message || error.message,
          storage: body.storage,
          status: error.status
        };
      }
      if (error.status === 404) {
        return {
          connected: false,
          message:
            'The mesh_zenodo server extension is not enabled on this Jupyter server.',
          status: 404
        };
      }
      return { connected: false, message: error.message, status: error.status };
    }
    if (error instanceof ServerConnection.NetworkError) {
      return {
        connected: false,
        message: 'The Jupyter server cannot be reached.',
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

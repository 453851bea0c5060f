import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from '../request';

/**
 * The documents REST API of the server extension (`/mesh-zenodo/documents/…`:
 * presence, exclusive locks, conflict copies), typed. Paths are Jupyter API
 * paths (relative to Lab's root); every failure is an `APIError` carrying the
 * server's message.
 */

/** Another Jupyter server that has the document open. */
export interface IPresent {
  user: string;
  /** Display name. */
  name: string;
  /** The Jupyter server's name (its host by default). */
  server: string;
  /** The same user, at another Jupyter server. */
  same_user: boolean;
}

/** A CS3 lock on a file, as the server describes it. */
export interface ILock {
  type: string;
  user: string;
  /** Who holds it (display name when known). */
  holder: string;
  /** The application that took it (e.g. "Collabora"). */
  app_name: string;
  /** ISO time, or null. */
  since: string | null;
  expires: string | null;
  /** A short save lock of another Jupyter server: saves wait for it and merge. */
  mergeable: boolean;
  /** A user's "Lock for exclusive editing". */
  exclusive: boolean;
  /** Held by this user at this server. */
  mine?: boolean;
}

/** The answer of the presence endpoint. */
export interface IPresence {
  others: IPresent[];
  lock: ILock | null;
  /** Seconds between two heartbeats. */
  interval: number;
}

/** What a save merged (`merge` in the answer of `PUT /api/contents/<path>`). */
export interface IMergeReport {
  by?: { user?: string; name?: string };
  kind?: string;
  merged?: boolean;
  changes?: unknown[];
  conflicts?: unknown[];
  summary?: string;
  conflict_copy?: string;
}

/** The data of the merge event (`https://mesh-zenodo.readthedocs.io/events/merge/v1`). */
export interface IMergeEvent {
  path: string;
  summary: string;
  by?: string;
  conflicts?: number;
  conflict_copy?: string;
}

export const MERGE_EVENT_SCHEMA = 'https://mesh-zenodo.readthedocs.io/events/merge/v1';

/**
 * Whether `path` is named like a conflict copy
 * (`<name>.<user>.<YYYY-MM-DD_HH_MM_SS>.conflict<ext>`).
 */
export function looksLikeCopy(path: string): boolean {
  return /\.[^./]+\.\d{4}-\d{2}-\d{2}_\d{2}_\d{2}_\d{2}\.conflict(\.[^./]*)?$/.test(path);
}

export class DocumentsAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  /** Who else has `path` open, and its lock. */
  presence(path: string): Promise<IPresence> {
    return this._call<IPresence>('presence' + query(path));
  }

  /** I have `path` open (a heartbeat); answers as `presence`. */
  heartbeat(path: string): Promise<IPresence> {
    return this._call<IPresence>('presence', { method: 'POST', body: JSON.stringify({ path }) });
  }

  /** I closed `path`. */
  async leave(path: string): Promise<void> {
    await this._call<unknown>('presence' + query(path), { method: 'DELETE' });
  }

  /** "Lock for exclusive editing". */
  async lock(path: string): Promise<ILock> {
    const answer = await this._call<{ lock: ILock }>('lock', {
      method: 'POST',
      body: JSON.stringify({ path })
    });
    return answer.lock;
  }

  /** Remove my exclusive lock. */
  async unlock(path: string): Promise<void> {
    await this._call<unknown>('lock' + query(path), { method: 'DELETE' });
  }

  /** "Work on a copy": a conflict copy next to `path`. */
  makeCopy(path: string): Promise<{ copy: string; original: string }> {
    return this._call('copies', { method: 'POST', body: JSON.stringify({ path }) });
  }

  /** What a conflict copy is a copy of, and that original's lock. */
  copyOrigin(copy: string): Promise<{ original: string | null; lock: ILock | null }> {
    return this._call('copies' + query(copy));
  }

  /** Merge a conflict copy back into its original (the copy goes to the recycle bin). */
  mergeCopy(copy: string): Promise<{ path: string; merge: IMergeReport }> {
    return this._call('copies/merge', { method: 'POST', body: JSON.stringify({ path: copy }) });
  }

  private _call<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(`documents/${endPoint}`, this.serverSettings, init);
  }
}

function query(path: string): string {
  return `?path=${encodeURIComponent(path)}`;
}

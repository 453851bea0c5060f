import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import { APIError, requestAPI } from '../request';

/**
 * The sharing REST API of the server extension (`/mesh-zenodo/grantees`,
 * `/shares`, `/received-shares`, `/links`), typed.
 */

export type GranteeType = 'user' | 'group';
export type Role = 'viewer' | 'editor' | 'uploader' | 'manager';
export type ReceivedState = 'pending' | 'accepted' | 'rejected';
export type LinkType = 'view' | 'upload' | 'edit' | 'filedrop';

export const ROLES: readonly Role[] = ['viewer', 'editor', 'uploader', 'manager'];
export const LINK_TYPES: readonly LinkType[] = ['view', 'upload', 'edit', 'filedrop'];

export interface IGrantee {
  type: GranteeType;
  id: string;
  idp: string;
  name: string;
  display_name: string;
  mail: string;
}

export interface IResource {
  path: string;
  /** The Jupyter path, or null when it is not under Lab's root. */
  api_path: string | null;
  name: string;
  type: 'file' | 'directory';
  size: number;
  etag: string;
}

export interface IShare {
  id: string;
  resource: IResource;
  grantee: IGrantee;
  role: Role;
  expiration: string | null;
  created: string;
  owner: IGrantee;
}

export interface IReceivedShare {
  id: string;
  state: ReceivedState;
  hidden: boolean;
  mount_point: string | null;
  resource: IResource;
  role: Role;
  owner: IGrantee;
  created: string;
  expiration: string | null;
}

export interface ILink {
  id: string;
  url: string;
  type: LinkType;
  display_name: string;
  password_protected: boolean;
  expiration: string | null;
  created: string;
  resource: IResource;
}

export interface IGranteeSearch {
  users: IGrantee[];
  groups: IGrantee[];
}

/**
 * The calls; every failure is an `APIError` carrying the server's message.
 */
export class SharingAPI {
  constructor(readonly serverSettings: ServerConnection.ISettings) {}

  findGrantees(query: string): Promise<IGranteeSearch> {
    return this._call(`grantees?q=${encodeURIComponent(query)}`);
  }

  async listShares(path?: string): Promise<IShare[]> {
    const query = path === undefined ? '' : `?path=${encodeURIComponent(path)}`;
    return (await this._call<{ shares: IShare[] }>(`shares${query}`)).shares;
  }

  async createShare(body: {
    path: string;
    grantee: { type: GranteeType; name: string };
    role: Role;
    expiration?: string;
  }): Promise<IShare> {
    return (await this._call<{ share: IShare }>('shares', 'POST', body)).share;
  }

  async updateShare(
    id: string,
    body: { role?: Role; expiration?: string | null }
  ): Promise<IShare> {
    return (await this._call<{ share: IShare }>(`shares/${encodeURIComponent(id)}`, 'PATCH', body))
      .share;
  }

  async removeShare(id: string): Promise<void> {
    await this._call(`shares/${encodeURIComponent(id)}`, 'DELETE');
  }

  async listReceived(): Promise<IReceivedShare[]> {
    return (await this._call<{ shares: IReceivedShare[] }>('received-shares')).shares;
  }

  async updateReceived(
    id: string,
    body: { state?: ReceivedState; hidden?: boolean }
  ): Promise<IReceivedShare> {
    return (
      await this._call<{ share: IReceivedShare }>(
        `received-shares/${encodeURIComponent(id)}`,
        'PATCH',
        body
      )
    ).share;
  }

  /**
   * The public links of `path`; null when the server has no links API (404 on
   * the route itself, not on the path).
   */
  async listLinks(path: string): Promise<ILink[] | null> {
    try {
      return (
        await this._call<{ links: ILink[] }>(`links?path=${encodeURIComponent(path)}`)
      ).links;
    } catch (error) {
      if (error instanceof APIError && error.status === 404 && !isJSONError(error)) {
        return null;
      }
      throw error;
    }
  }

  async createLink(body: {
    path: string;
    type: LinkType;
    password?: string;
    expiration?: string;
    display_name?: string;
  }): Promise<ILink> {
    return (await this._call<{ link: ILink }>('links', 'POST', body)).link;
  }

  /** Change a link: `password: ""` removes the password, `expiration: null` the expiry. */
  async updateLink(
    id: string,
    body: { type?: LinkType; password?: string; expiration?: string | null }
  ): Promise<ILink> {
    return (await this._call<{ link: ILink }>(`links/${encodeURIComponent(id)}`, 'PATCH', body)).link;
  }

  async removeLink(id: string): Promise<void> {
    await this._call(`links/${encodeURIComponent(id)}`, 'DELETE');
  }

  private _call<T>(endPoint: string, method = 'GET', body?: unknown): Promise<T> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'Content-Type': 'application/json' };
    }
    return requestAPI<T>(endPoint, this.serverSettings, init);
  }
}

/**
 * Whether a 404 came from one of our handlers (JSON `{message, reason}`) rather
 * than from Tornado's "no such route" page.
 */
function isJSONError(error: APIError): boolean {
  const body = error.body as any;
  return !!body && typeof body === 'object' && typeof body.reason === 'string';
}

/**
 * The Jupyter path under which an accepted share appears.
 */
export function mountPath(share: IReceivedShare): string {
  const mount = (share.mount_point ?? '').split('/').filter(Boolean).pop();
  if (mount) {
    return URLExt.join('Shares', mount);
  }
  const apiPath = share.resource.api_path;
  if (apiPath && apiPath.startsWith('Shares/')) {
    return apiPath;
  }
  return URLExt.join('Shares', share.resource.name);
}

import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { requestAPI } from '../request';
import { toFailure } from './failure';

/*
 * The REST API of mesh_zenodo's Zenodo part (mesh_zenodo/zenodo/handlers.py),
 * as the panel uses it. Paths are below `<baseUrl>/mesh-zenodo/`.
 */

/**
 * `GET/POST/DELETE zenodo/login`: who is signed in (never the token).
 */
export interface ILoginStatus {
  connected: boolean;
  /** The token was checked against the server. */
  verified: boolean;
  /** The signed-in server, else the default one. */
  base_url: string;
  environment: 'zenodo' | 'sandbox' | 'custom';
  account: { user_id: string } | null;
  /** The token may create and edit depositions. */
  deposit: boolean;
  remembered: boolean;
  /** Why a remembered sign-in was dropped or could not be checked. */
  message: string | null;
  /** The environments offered by name, e.g. `{zenodo: "https://zenodo.org"}`. */
  environments: Record<string, string>;
  default_base_url: string;
  remember_allowed: boolean;
}

export interface IResourceType {
  type: string;
  subtype: string | null;
  title: string;
}

/**
 * One row of the record results.
 */
export interface IRecordSummary {
  id: number | string;
  conceptrecid: string | null;
  doi: string | null;
  title: string;
  resource_type: IResourceType;
  publication_date: string | null;
  creators: string[];
  version: string | null;
  access_right: string | null;
  communities: string[];
  url: string;
}

export interface ICreator {
  name: string;
  affiliations: string[];
  orcid: string | null;
}

export interface IRecordFile {
  key: string;
  size: number;
  /** As Zenodo gives it, e.g. `md5:0123…`. */
  checksum: string | null;
  md5: string | null;
}

/**
 * `GET zenodo/records/<id>`.
 */
export interface IRecordDetails extends Omit<IRecordSummary, 'creators'> {
  doi_url: string | null;
  conceptdoi: string | null;
  /** Limited HTML, untrusted: sanitize before showing. */
  description: string;
  creators: ICreator[];
  license: { id: string; title: string; url: string | null } | null;
  keywords: string[];
  versions: {
    version: string | null;
    index: number | null;
    count: number | null;
    is_latest: boolean | null;
  };
  files: IRecordFile[];
  files_total_size: number;
  created: string | null;
  updated: string | null;
  base_url: string;
}

export interface ICommunity {
  id: string;
  slug: string;
  title: string;
  description: string;
  type: string | null;
  website: string | null;
  url: string;
  logo: string | null;
  created: string | null;
}

/**
 * A page of search results.
 */
export interface ISearchPage<T> {
  total: number;
  page: number;
  size: number;
  has_next: boolean;
  has_prev: boolean;
  hits: T[];
  base_url: string;
  community?: string;
}

export type JobState = 'running' | 'done' | 'failed' | 'cancelled';
export type ItemState =
  | 'pending'
  | 'running'
  | 'done'
  | 'skipped'
  | 'conflict'
  | 'failed'
  | 'cancelled';

export interface IJobItem {
  id: string;
  name: string;
  state: ItemState;
  bytes_done: number;
  bytes_total: number;
  message: string | null;
  result: {
    path?: string;
    name?: string;
    key?: string;
    size?: number;
    md5?: string | null;
  } | null;
}

/**
 * What a job works on: for a pull, the Zenodo record (`source`) and the folder
 * (`destination`). Structured, so that no one parses the title.
 */
export interface IJobSource {
  type: string;
  record_id?: string;
  title?: string;
  doi?: string | null;
  version?: string | null;
  base_url?: string;
}

export interface IJobDestination {
  type: string;
  path?: string;
}

export interface IJob {
  id: string;
  kind: string;
  title: string;
  source: IJobSource | null;
  destination: IJobDestination | null;
  state: JobState;
  created: string;
  finished: string | null;
  progress: {
    bytes_done: number;
    bytes_total: number;
    items_done: number;
    items_total: number;
    fraction: number;
  };
  items: IJobItem[];
  messages: { time: string; level: string; text: string }[];
  result: {
    record_id?: string;
    doi?: string | null;
    version?: string | null;
    destination?: string;
    files?: unknown[];
  } | null;
  error: { message: string; reason: string } | null;
}

export type OnConflict = 'ask' | 'rename' | 'overwrite' | 'skip';

export interface IPullRequest {
  record_id: number | string;
  /** File keys; `null` for all the record's files. */
  keys: string[] | null;
  /** Folder path as Lab shows it (on the CS3 storage). */
  destination: string;
  on_conflict: OnConflict;
  /** The Zenodo server the record was found on. */
  base_url?: string;
}

/**
 * The record a pulled file came from (its CS3 arbitrary metadata `zenodo.*`,
 * without the prefix). A folder has the last record pulled into it here.
 */
export interface IFileProvenance {
  record_id: string;
  title?: string;
  doi?: string;
  version?: string;
  url?: string;
  /** A file's key in the record. */
  key?: string;
  /** A file's checksum in the record, e.g. `md5:0123…`. */
  checksum?: string;
  conceptdoi?: string;
  conceptrecid?: string;
  publication_date?: string;
  pulled_at?: string;
  [key: string]: string | undefined;
}

/**
 * One record that landed files in a folder.
 */
export interface IProvenanceRecord {
  record_id: string;
  title?: string;
  doi?: string;
  version?: string;
  url?: string;
  conceptdoi?: string;
  publication_date?: string;
  pulled_at?: string;
  /** The keys of the record's files pulled into the folder. */
  files?: string[];
}

/**
 * `GET zenodo/provenance?path=`: where a pulled file or folder came from.
 */
export interface IProvenance {
  path: string;
  /** A file's own record; for a folder, the last record pulled into it. */
  zenodo: IFileProvenance | null;
  /** For a folder, every record that landed files in it (oldest first). */
  records: IProvenanceRecord[];
}

/**
 * `GET zenodo/vocabulary`: the choices of the search form, from the one
 * Zenodo vocabulary of the server.
 */
export interface IVocabulary {
  resource_types: { id: string; title: string }[];
  record_sorts: string[];
  community_sorts: string[];
}

/** Hits per page unless the settings say otherwise. */
export const PAGE_SIZE = 10;

/**
 * The client of the Zenodo REST API of the Jupyter server.
 */
export class ZenodoAPI {
  constructor(
    readonly serverSettings: ServerConnection.ISettings,
    private readonly _trans: TranslationBundle = nullTranslator.load('mesh_zenodo')
  ) {}

  loginStatus(): Promise<ILoginStatus> {
    return this._call<ILoginStatus>('zenodo/login');
  }

  signIn(body: {
    token: string;
    remember: boolean;
    environment?: string;
    base_url?: string;
  }): Promise<ILoginStatus> {
    return this._call<ILoginStatus>('zenodo/login', {
      method: 'POST',
      body: JSON.stringify(body)
    });
  }

  signOut(): Promise<ILoginStatus> {
    return this._call<ILoginStatus>('zenodo/login', { method: 'DELETE' });
  }

  searchRecords(
    query: {
      q: string;
      type?: string;
      sort?: string;
      page: number;
      size?: number;
      community?: string;
      base_url?: string;
    },
    signal?: AbortSignal
  ): Promise<ISearchPage<IRecordSummary>> {
    const { community, ...rest } = query;
    const path = community
      ? `zenodo/communities/${encodeURIComponent(community)}/records`
      : 'zenodo/records';
    return this._call(
      path + queryString({ size: PAGE_SIZE, ...rest }),
      { signal }
    );
  }

  vocabulary(): Promise<IVocabulary> {
    return this._call<IVocabulary>('zenodo/vocabulary');
  }

  searchCommunities(
    query: { q: string; sort?: string; page: number; size?: number; base_url?: string },
    signal?: AbortSignal
  ): Promise<ISearchPage<ICommunity>> {
    return this._call(
      'zenodo/communities' + queryString({ size: PAGE_SIZE, ...query }),
      { signal }
    );
  }

  record(id: number | string, baseUrl?: string): Promise<IRecordDetails> {
    return this._call(
      `zenodo/records/${encodeURIComponent(String(id))}` +
        queryString({ base_url: baseUrl })
    );
  }

  startPull(request: IPullRequest): Promise<{ job: IJob }> {
    return this._call('zenodo/pulls', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  /** The jobs the server knows (of one kind, e.g. `pull`), newest first. */
  jobs(kind?: string): Promise<{ jobs: IJob[] }> {
    return this._call('jobs' + queryString({ kind }));
  }

  job(id: string): Promise<{ job: IJob }> {
    return this._call(`jobs/${encodeURIComponent(id)}`);
  }

  cancelJob(id: string): Promise<{ job: IJob }> {
    return this._call(`jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  provenance(path: string): Promise<IProvenance> {
    return this._call('zenodo/provenance' + queryString({ path }));
  }

  private async _call<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    try {
      return await requestAPI<T>(endPoint, this.serverSettings, init);
    } catch (error) {
      throw toFailure(error, this._trans);
    }
  }
}

/**
 * `?a=1&b=2`, leaving out empty values.
 */
export function queryString(
  params: Record<string, string | number | boolean | undefined | null>
): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

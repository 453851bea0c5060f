import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator, TranslationBundle } from '@jupyterlab/translation';

import { APIError, requestAPI } from '../request';
import { IJob, queryString } from '../zenodo/api';
import { IZenodoFailure, toFailure } from '../zenodo/failure';

/*
 * The publishing routes of mesh_zenodo (mesh_zenodo/rest/publishing.py), as
 * the Publish dialog and the Publish tab use them.
 */

/** The server's kind of a publication job. */
export const PUBLISH_KIND = 'publish';

/**
 * A person of the metadata (.zenodo.json vocabulary).
 */
export interface IPerson {
  /** "Family, Given" for a person; an organisation's name otherwise. */
  name: string;
  affiliation?: string;
  orcid?: string;
  /** Contributors only: their role (DataCurator, Editor...). */
  type?: string;
  [key: string]: unknown;
}

export interface IRelatedIdentifier {
  identifier: string;
  relation: string;
  resource_type?: string;
  scheme?: string;
  [key: string]: unknown;
}

/**
 * The metadata of a publication, in the legacy Zenodo (`.zenodo.json`)
 * vocabulary; keys the form does not show are kept as they came.
 */
export interface IMetadata {
  title?: string;
  upload_type?: string;
  publication_type?: string;
  image_type?: string;
  description?: string;
  creators?: IPerson[];
  contributors?: IPerson[];
  license?: string;
  access_right?: string;
  embargo_date?: string;
  access_conditions?: string;
  keywords?: string[];
  communities?: { identifier: string }[];
  related_identifiers?: IRelatedIdentifier[];
  version?: string;
  grants?: { id: string }[];
  doi?: string;
  publication_date?: string;
  [key: string]: unknown;
}

/**
 * Where a folder was published (CS3 metadata `mesh-zenodo.published` of the folder).
 */
export interface IPreviousPublication {
  base_url: string;
  record_id: string;
  doi: string | null;
  concept_doi: string | null;
  version: string | null;
  url: string | null;
  state: 'draft' | 'published';
  published_at: string | null;
  metadata?: IMetadata;
  /** A new version left as a draft (the folder still points at the published one). */
  draft?: { record_id: string; doi: string | null; url: string | null };
}

/**
 * A publication of the folder under way (its draft), `mesh-zenodo.publishing`.
 */
export interface IPublishingNote {
  base_url: string;
  draft_id: string;
  new_version_of: string | null;
  started?: string;
}

export interface IFolderFile {
  /** Relative to the folder, `/`-separated. */
  path: string;
  size: number;
}

/**
 * `GET zenodo/publish?path=`: what the Publish form starts from.
 */
export interface IPrepared {
  files: IFolderFile[];
  hidden_files: IFolderFile[];
  prefill: IMetadata;
  prefill_source: string | null;
  previous: IPreviousPublication | null;
  publishing: IPublishingNote | null;
}

/**
 * A problem of one form field (`title`, `creators[1].orcid`; `''` for the form).
 */
export interface IFieldError {
  field: string;
  messages: string[];
}

/**
 * `POST zenodo/publications`.
 */
export interface IPublishRequest {
  /** The folder as Lab shows it (no leading slash). */
  path: string;
  metadata: IMetadata;
  /** Relative paths of the files to publish; leave out for all. */
  files?: string[];
  publish: boolean;
  new_version: boolean;
  cite_doi: boolean;
  include_hidden: boolean;
}

/**
 * The result of a publication job (`job.result`).
 */
export interface IPublishResult {
  record_id?: string;
  doi?: string | null;
  concept_doi?: string | null;
  url?: string | null;
  state?: 'draft' | 'published';
  version?: string | null;
  files?: { key: string; size: number; md5: string | null }[];
}

/**
 * A publication a restart of the server interrupted (to resume).
 */
export interface IInterrupted {
  id: string;
  path: string;
  title: string | null;
  started: string | null;
  base_url: string | null;
}

/**
 * Why a publication request was refused, with what the form needs to show it.
 */
export interface IPublishFailure extends IZenodoFailure {
  /** Field errors (400 for metadata). */
  errors: IFieldError[];
  /** The folder was published before (409). */
  previous: IPreviousPublication | null;
}

/**
 * Any error of a publishing call as an `IPublishFailure`.
 */
export function toPublishFailure(
  error: unknown,
  trans: TranslationBundle = nullTranslator.load('mesh_zenodo')
): IPublishFailure {
  const failure = toFailure(error, trans);
  let errors: IFieldError[] = [];
  let previous: IPreviousPublication | null = null;
  const body =
    error instanceof APIError && error.body && typeof error.body === 'object'
      ? (error.body as { errors?: unknown; previous?: unknown })
      : (error as { errors?: unknown; previous?: unknown } | null);
  if (body && Array.isArray(body.errors)) {
    errors = fieldErrors(body.errors);
  }
  if (body && body.previous && typeof body.previous === 'object') {
    previous = body.previous as IPreviousPublication;
  }
  return { ...failure, errors, previous };
}

/**
 * The server's `errors` (`[{field, messages}]`, or `[{field, message}]`) checked.
 */
export function fieldErrors(raw: unknown): IFieldError[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  const out: IFieldError[] = [];
  for (const entry of raw) {
    if (!entry || typeof entry !== 'object') {
      continue;
    }
    const field = typeof entry.field === 'string' ? entry.field : '';
    const messages = Array.isArray(entry.messages)
      ? entry.messages.filter((m: unknown) => typeof m === 'string')
      : typeof entry.message === 'string'
        ? [entry.message]
        : [];
    if (messages.length) {
      out.push({ field, messages });
    }
  }
  return out;
}

/**
 * The client of the publishing routes.
 */
export class PublishAPI {
  constructor(
    readonly serverSettings: ServerConnection.ISettings,
    private readonly _trans: TranslationBundle = nullTranslator.load('mesh_zenodo')
  ) {}

  /** What the form of `path` (a folder) starts from. */
  prepare(path: string): Promise<IPrepared> {
    return this._call('zenodo/publish' + queryString({ path }));
  }

  /** The form's checks (nothing is sent to Zenodo). */
  async check(metadata: IMetadata): Promise<IFieldError[]> {
    const answer = await this._call<{ errors: unknown }>('zenodo/metadata/check', {
      method: 'POST',
      body: JSON.stringify({ metadata })
    });
    return fieldErrors(answer.errors);
  }

  /** Start a publication; rejects with an `IPublishFailure`. */
  start(request: IPublishRequest): Promise<{ job: IJob }> {
    return this._call('zenodo/publications', {
      method: 'POST',
      body: JSON.stringify(request)
    });
  }

  /** This server's publications, and those a restart interrupted. */
  list(): Promise<{ jobs: IJob[]; interrupted: IInterrupted[] }> {
    return this._call('zenodo/publications');
  }

  /** Go on with an interrupted publication. */
  resume(id: string): Promise<{ job: IJob }> {
    return this._call(`zenodo/publications/${encodeURIComponent(id)}/resume`, {
      method: 'POST'
    });
  }

  private async _call<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    try {
      return await requestAPI<T>(endPoint, this.serverSettings, init);
    } catch (error) {
      throw toPublishFailure(error, this._trans);
    }
  }
}

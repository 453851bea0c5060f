/**
 * The extension points of mesh-zenodo: what other plugins (Shares, Projects,
 * Publish...) require to add to it, instead of editing it.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { ITranslator } from '@jupyterlab/translation';
import { Token } from '@lumino/coreutils';
import type { IDisposable } from '@lumino/disposable';
import type { ISignal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import type { IZenodoSettings } from './settings';
import type { IJob, ZenodoAPI } from './zenodo/api';
import type { ZenodoModel } from './zenodo/model';
import type { PullManager } from './zenodo/pulls/model';

// ---------------------------------------------------------------------------
// The CS3 session
// ---------------------------------------------------------------------------

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
 * Kernels and terminals start in a FUSE mount of the user's CS3 space (kernels
 * in their notebook's folder of it).
 */
export interface IKernelsMounted {
  mounted: true;
  /** The mount's local path. */
  path: string;
  reason: null;
  scratch: null;
}

/**
 * There is no FUSE mount: kernels and terminals start in a local scratch
 * folder (`cs3://` still reaches the storage from a kernel).
 */
export interface IKernelsNotMounted {
  mounted: false;
  path: null;
  /** Why there is no mount, e.g. `/dev/fuse is missing (...)`. */
  reason: string;
  /** The local folder kernels and terminals start in. */
  scratch: string;
}

/**
 * Where kernels and terminals work, as the session endpoint reports it.
 */
export type KernelsInfo = IKernelsMounted | IKernelsNotMounted;

/**
 * A 200 answer of the session endpoint when Lab's files are on the CS3 storage.
 */
export interface ISessionInfo {
  connected: true;
  user: ICS3User;
  storage: IStorageInfo;
  /** Which contents manager serves Lab's files: the CS3 one. */
  contents: 'cs3';
  /**
   * Where kernels and terminals work; `null` when the server does not place
   * them (not set up for it).
   */
  kernels: KernelsInfo | null;
}

/**
 * A 200 answer of the session endpoint when Lab's files are on the local disk
 * (plain `jupyter lab` with the package installed): nothing is wrong, no CS3
 * storage is used, and `message` says how to work on one.
 */
export interface ILocalContents {
  connected: false;
  contents: 'local';
  message: string;
  storage?: Partial<IStorageInfo>;
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
  /**
   * `cs3` when Lab's files are on the CS3 storage that could not be reached
   * (503) or that refused the sign-in (401): Lab's file browsers are empty.
   */
  contents?: 'cs3';
}

/**
 * The state of the session.
 */
export type SessionState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'connected'; session: ISessionInfo }
  | { kind: 'local'; local: ILocalContents }
  | { kind: 'error'; failure: ISessionFailure };

/**
 * Who is signed in to the CS3 storage, which storage it is, and whether Lab's
 * files are on it. One session is shared by every plugin.
 */
export interface ICS3Session {
  /**
   * The current state: `connected`; `local` when Lab's files are on the local
   * disk (no CS3 storage in use, nothing wrong); `error` when the CS3 storage
   * cannot be used.
   */
  readonly state: SessionState;
  /** The session when connected, else `null`. */
  readonly session: ISessionInfo | null;
  /** Emitted whenever `state` changes. */
  readonly stateChanged: ISignal<ICS3Session, SessionState>;
  /** (Re)load the session; concurrent calls share one request. */
  refresh(): Promise<void>;
}

export const ICS3Session = new Token<ICS3Session>(
  'mesh-zenodo:ICS3Session',
  'Who is signed in to the CS3 storage, which storage, and whether Lab files are on it.'
);

// ---------------------------------------------------------------------------
// Panels with tabs
// ---------------------------------------------------------------------------

/**
 * One tab of a panel. A tab without `create`, or with `disabledReason`, is
 * shown greyed out and cannot be selected.
 */
export interface ITabSpec<TContext> {
  /**
   * Short id: the tab gets `data-testid="mz-tab-<id>"`, its content
   * `data-tab-id="<id>"`.
   */
  id: string;
  /** The tab's text (already translated). */
  label: string;
  /** Tooltip of an enabled tab. */
  caption?: string;
  /** Tabs are shown by increasing rank, then in the order they were added. */
  rank?: number;
  /** Builds the tab's content, the first time the tab is shown. */
  create?: (context: TContext) => Widget;
  /** When set, the tab is disabled and this is its tooltip. */
  disabledReason?: string;
}

/**
 * A side panel that other plugins add tabs to.
 */
export interface ITabbedPanel<TContext> {
  /** DOM id of the panel (for `app.shell.activateById`). */
  readonly id: string;
  /** What the tabs' `create` gets. */
  readonly context: TContext;
  /** Emitted when a tab is added or removed. */
  readonly tabsChanged: ISignal<ITabbedPanel<TContext>, void>;
  /**
   * Add a tab; disposing the result removes it. Tabs may be added at any
   * time, before or after the panel is shown.
   */
  addTab(spec: ITabSpec<TContext>): IDisposable;
  /** Select tab `id`; false when it is unknown or disabled. */
  select(id: string): boolean;
  /** Whether tab `id` is there and enabled (e.g. whether publishing is possible). */
  isEnabled(id: string): boolean;
}

/**
 * What the ScienceMesh tabs get to build their content.
 */
export interface IScienceMeshContext {
  app: JupyterFrontEnd;
  session: ICS3Session;
  fileBrowserFactory: IFileBrowserFactory;
  docManager: IDocumentManager;
  translator: ITranslator;
}

/**
 * The ScienceMesh side panel (session header, then tabs: My Files; Shares and
 * Projects come from their own plugins).
 */
export type IScienceMeshPanel = ITabbedPanel<IScienceMeshContext>;

export const IScienceMeshPanel = new Token<IScienceMeshPanel>(
  'mesh-zenodo:IScienceMeshPanel',
  'The ScienceMesh side panel: add tabs to it.'
);

/**
 * What the Zenodo tabs get to build their content.
 */
export interface IZenodoContext {
  app: JupyterFrontEnd;
  api: ZenodoAPI;
  /** Who is signed in to Zenodo. */
  model: ZenodoModel;
  jobs: IZenodoJobs;
  pulls: PullManager;
  docManager: IDocumentManager;
  sanitizer: IRenderMime.ISanitizer;
  translator: ITranslator;
  /** The user's settings of the Zenodo panel (kept up to date). */
  settings: { readonly composite: Readonly<IZenodoSettings> };
}

/**
 * The Zenodo side panel (Login, Search; Upload comes from the publishing plugin).
 */
export type IZenodoPanel = ITabbedPanel<IZenodoContext>;

export const IZenodoPanel = new Token<IZenodoPanel>(
  'mesh-zenodo:IZenodoPanel',
  'The Zenodo side panel: add tabs to it.'
);

// ---------------------------------------------------------------------------
// Zenodo jobs
// ---------------------------------------------------------------------------

/**
 * A long server job (a pull, a publication...) followed until it ends.
 */
export interface IJobWatch extends IDisposable {
  /** The job id. */
  readonly id: string;
  /** The latest state of the job the server reported. */
  readonly job: IJob;
  /** Emitted with each new state of the job. */
  readonly changed: ISignal<IJobWatch, IJob>;
  /**
   * Resolves with the job once it is no longer running; rejects with an
   * `IZenodoFailure` when it cannot be followed (the server forgot it, or
   * keeps failing), or when the watch is disposed first.
   */
  readonly ended: Promise<IJob>;
}

/**
 * The long jobs of the server (`/mesh-zenodo/jobs`): list them, follow one's
 * progress (with Lumino's `Poll`: a steady interval, backing off on errors and
 * pausing while the page is hidden), cancel one. Pulls use it; publishing adds
 * its own kind of job and follows it the same way.
 */
export interface IZenodoJobs {
  /** The jobs the server knows, newest first; of one `kind` (e.g. `pull`) if given. */
  list(kind?: string): Promise<IJob[]>;
  /** Follow `job` (as a start request returned it) until it ends; one watch per job id. */
  follow(job: IJob): IJobWatch;
  /** Ask the server to cancel a job; resolves with its state after the clean-up. */
  cancel(id: string): Promise<IJob>;
}

export const IZenodoJobs = new Token<IZenodoJobs>(
  'mesh-zenodo:IZenodoJobs',
  'The long jobs of the server (pulls, publications): list, follow, cancel.'
);

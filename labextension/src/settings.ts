import type { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ISignal, Signal } from '@lumino/signaling';

/**
 * `schema/sciencemesh.json`, the settings of `mesh-zenodo:sciencemesh`.
 */
export interface IScienceMeshSettings {
  /** My Files streams files > 1 MiB into the CS3 storage in one request. */
  streamLargeUploads: boolean;
}

export const SCIENCEMESH_DEFAULTS: IScienceMeshSettings = {
  streamLargeUploads: true
};

/**
 * `schema/sharing.json`, the settings of `mesh-zenodo:sharing`.
 */
export interface ISharingSettings {
  /** Seconds between two checks for shares made with the user. */
  pollInterval: number;
  /** Notify the user of new shares. */
  notify: boolean;
}

export const SHARING_DEFAULTS: ISharingSettings = {
  pollInterval: 60,
  notify: true
};

/**
 * `schema/zenodo.json`, the settings of `mesh-zenodo:zenodo`.
 */
export interface IZenodoSettings {
  /** The server the login form preselects; '' for the Jupyter server's default. */
  defaultEnvironment: '' | 'zenodo' | 'sandbox' | 'other';
  /** The base URL filled in for "other"; '' for the Jupyter server's default. */
  defaultBaseUrl: string;
  /** Hits per page of search results. */
  searchPageSize: number;
}

export const ZENODO_DEFAULTS: IZenodoSettings = {
  defaultEnvironment: '',
  defaultBaseUrl: '',
  searchPageSize: 10
};

/**
 * `schema/zenodo-jobs.json`, the settings of `mesh-zenodo:zenodo-jobs`.
 */
export interface IJobSettings {
  /** Milliseconds between two progress requests of a running job. */
  pollInterval: number;
}

export const JOB_DEFAULTS: IJobSettings = {
  pollInterval: 500
};

/**
 * A plugin's settings: the defaults (today's behaviour) until the setting
 * registry answers, then what the user set, kept up to date.
 */
export class PluginSettings<T extends object> {
  constructor(private readonly _defaults: T) {
    this._composite = { ..._defaults };
  }

  /** The defaults overridden by the user's settings. */
  get composite(): Readonly<T> {
    return this._composite;
  }

  /** Emitted when the user changes a setting. */
  get changed(): ISignal<this, Readonly<T>> {
    return this._changed;
  }

  /**
   * Read the settings of `pluginId` (whose schema is in `schema/`) and follow
   * their changes. Without a registry, or when it fails, the defaults stay.
   */
  async load(registry: ISettingRegistry | null, pluginId: string): Promise<void> {
    if (!registry) {
      return;
    }
    try {
      const settings = await registry.load(pluginId);
      this._apply(settings);
      settings.changed.connect(this._apply, this);
    } catch (reason) {
      console.warn(`mesh-zenodo: cannot read the settings of ${pluginId}; using the defaults`, reason);
    }
  }

  private _apply(settings: ISettingRegistry.ISettings): void {
    this._composite = {
      ...this._defaults,
      ...(settings.composite as Partial<T>)
    };
    this._changed.emit(this._composite);
  }

  private _composite: T;
  private _changed = new Signal<this, Readonly<T>>(this);
}

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, ISanitizer, Sanitizer } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs } from '../commands';
import { zenodoIcon } from '../icons';
import {
  IJobSettings,
  IZenodoSettings,
  JOB_DEFAULTS,
  PluginSettings,
  ZENODO_DEFAULTS
} from '../settings';
import { IZenodoJobs, IZenodoPanel } from '../tokens';
import { ZenodoAPI } from './api';
import { ZenodoJobs } from './jobs';
import { LoginView } from './login';
import { ZenodoModel } from './model';
import { LOGIN_TAB, SEARCH_TAB, UPLOAD_TAB, ZenodoPanel, ZENODO_PANEL_ID } from './panel';
import { addProvenanceCommand } from './provenance';
import { conflictResolver } from './pulls/dialogs';
import { PullManager } from './pulls/model';
import { SearchView } from './search/view';

/**
 * The long jobs of the server (pulls, publications), followed with `Poll`.
 */
export const zenodoJobsPlugin: JupyterFrontEndPlugin<IZenodoJobs> = {
  id: 'mesh-zenodo:zenodo-jobs',
  description: 'Lists, follows and cancels the long jobs of the mesh-zenodo server.',
  autoStart: true,
  provides: IZenodoJobs,
  optional: [ISettingRegistry, ITranslator],
  activate: async (
    app: JupyterFrontEnd,
    registry: ISettingRegistry | null,
    translator: ITranslator | null
  ): Promise<IZenodoJobs> => {
    const trans = (translator ?? nullTranslator).load('mesh_zenodo');
    const settings = new PluginSettings<IJobSettings>(JOB_DEFAULTS);
    await settings.load(registry, zenodoJobsPlugin.id);
    return new ZenodoJobs(new ZenodoAPI(app.serviceManager.serverSettings, trans), settings);
  }
};

/**
 * The Zenodo side panel (Login, Search), its palette command and the
 * "Zenodo Provenance" item of the file browser's context menu.
 */
export const zenodoPlugin: JupyterFrontEndPlugin<IZenodoPanel> = {
  id: 'mesh-zenodo:zenodo',
  description: 'A side panel to search Zenodo and pull records into ScienceMesh storage.',
  autoStart: true,
  provides: IZenodoPanel,
  requires: [IFileBrowserFactory, IDocumentManager, IZenodoJobs],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator, ISanitizer, ISettingRegistry],
  activate: async (
    app: JupyterFrontEnd,
    fileBrowserFactory: IFileBrowserFactory,
    docManager: IDocumentManager,
    jobs: IZenodoJobs,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null,
    sanitizer: ISanitizer | null,
    registry: ISettingRegistry | null
  ): Promise<IZenodoPanel> => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('mesh_zenodo');
    const settings = new PluginSettings<IZenodoSettings>(ZENODO_DEFAULTS);
    await settings.load(registry, zenodoPlugin.id);

    const api = new ZenodoAPI(app.serviceManager.serverSettings, trans);
    const model = new ZenodoModel(api);
    const pulls = new PullManager({
      app,
      api,
      jobs,
      trans,
      onConflict: conflictResolver(trans)
    });
    const panel = new ZenodoPanel({
      app,
      api,
      model,
      jobs,
      pulls,
      docManager,
      sanitizer: sanitizer ?? new Sanitizer(),
      translator,
      settings
    });
    panel.addTab({
      id: LOGIN_TAB,
      label: trans.__('Login'),
      caption: trans.__('Log in to Zenodo with a personal access token'),
      rank: 100,
      create: context =>
        new LoginView(context, {
          publishing: {
            available: () => panel.isEnabled(UPLOAD_TAB),
            changed: panel.tabsChanged
          }
        })
    });
    panel.addTab({
      id: SEARCH_TAB,
      label: trans.__('Search'),
      caption: trans.__('Search Zenodo records and communities'),
      rank: 200,
      create: context => new SearchView(context)
    });

    app.shell.add(panel, 'left', { rank: 210 });
    restorer?.add(panel, ZENODO_PANEL_ID);

    app.commands.addCommand(CommandIDs.openZenodo, {
      label: trans.__('Open Zenodo Panel'),
      caption: trans.__('Search Zenodo and pull records into your ScienceMesh storage'),
      icon: args => (args['isPalette'] ? undefined : zenodoIcon),
      execute: () => {
        app.shell.activateById(panel.id);
      }
    });
    const category = trans.__('Zenodo');
    palette?.addItem({ command: CommandIDs.openZenodo, category });

    addProvenanceCommand(app, api, fileBrowserFactory, trans);
    palette?.addItem({ command: CommandIDs.zenodoProvenance, category });
    return panel;
  }
};

import { Message } from '@lumino/messaging';

import { zenodoIcon } from '../icons';
import { TabbedSidePanel } from '../panel';
import { IZenodoContext } from '../tokens';

/**
 * DOM id of the Zenodo side panel.
 */
export const ZENODO_PANEL_ID = 'mesh-zenodo-zenodo';

/** Ids of the Zenodo panel's own tabs. */
export const LOGIN_TAB = 'zenodo-login';
export const SEARCH_TAB = 'zenodo-search';
/** The publishing tab (added by the publishing plugin, or disabled until it arrives). */
export const UPLOAD_TAB = 'zenodo-upload';

/**
 * The left-sidebar panel: title, then the tabs (Login, Search; others come
 * from other plugins through `addTab`).
 */
export class ZenodoPanel extends TabbedSidePanel<IZenodoContext> {
  constructor(context: IZenodoContext) {
    super({
      id: ZENODO_PANEL_ID,
      className: 'mz-ZenodoPanel',
      icon: zenodoIcon,
      label: context.translator.load('mesh_zenodo').__('Zenodo'),
      context,
      translator: context.translator
    });
    this.showTabs();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._firstShow) {
      this._firstShow = false;
      const context = this.context;
      // pulls started before the page was (re)loaded go on showing progress
      void context.pulls.restore();
      // Someone already signed in (remembered token) goes straight to Search.
      void context.model.refresh().then(() => {
        if (context.model.status?.connected && !this._picked) {
          this.select(SEARCH_TAB);
        }
      });
      this.tabs?.tabBar.tabActivateRequested.connect(() => {
        this._picked = true;
      });
    }
  }

  private _firstShow = true;
  private _picked = false;
}

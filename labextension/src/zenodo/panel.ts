import { SidePanel } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { ITabSpec, MeshTabs } from '../tabs';
import { IZenodoContext } from './context';
import { zenodoIcon } from './icons';
import { LoginView } from './login';
import { SearchView } from './search';

/**
 * DOM id of the Zenodo side panel.
 */
export const ZENODO_PANEL_ID = 'mesh-zenodo-zenodo';

const PUBLISHING_LATER = 'Publishing a share arrives with the publishing feature';

/**
 * The tabs of the Zenodo panel, in order.
 */
export const ZENODO_TABS: ReadonlyArray<ITabSpec<IZenodoContext>> = [
  {
    id: 'zenodo-login',
    label: 'Login',
    caption: 'Log in to Zenodo with a personal access token',
    create: context => new LoginView(context)
  },
  {
    id: 'zenodo-search',
    label: 'Search',
    caption: 'Search Zenodo records and communities',
    create: context => new SearchView(context)
  },
  { id: 'zenodo-upload', label: 'Upload', disabledReason: PUBLISHING_LATER }
];

/**
 * The left-sidebar panel: title, then the Login / Search / Upload tabs.
 */
export class ZenodoPanel extends SidePanel {
  constructor(context: IZenodoContext) {
    super({ content: new Panel(), translator: context.translator });
    this.id = ZENODO_PANEL_ID;
    this.addClass('mz-ZenodoPanel');
    this.title.icon = zenodoIcon;
    this.title.caption = 'Zenodo';
    this._context = context;

    const heading = new Widget({ node: document.createElement('h2') });
    heading.addClass('mz-Panel-title');
    heading.node.textContent = 'Zenodo';
    this.header.addWidget(heading);

    this.tabs = new MeshTabs({ tabs: ZENODO_TABS, context });
    this.addWidget(this.tabs);
  }

  readonly tabs: MeshTabs<IZenodoContext>;

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (this._firstShow) {
      this._firstShow = false;
      // pulls started before the page was (re)loaded go on showing progress
      void this._context.pulls.restore();
      // Someone already signed in (remembered token) goes straight to Search.
      void this._context.model.refresh().then(() => {
        if (this._context.model.status?.connected && !this._userPicked()) {
          this.tabs.select('zenodo-search');
        }
      });
      this.tabs.tabBar.tabActivateRequested.connect(() => {
        this._picked = true;
      });
    }
  }

  private _userPicked(): boolean {
    return this._picked;
  }

  private _context: IZenodoContext;
  private _firstShow = true;
  private _picked = false;
}

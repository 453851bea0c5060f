import { SidePanel } from '@jupyterlab/ui-components';
import { Message } from '@lumino/messaging';
import { Panel, Widget } from '@lumino/widgets';

import { sciencemeshIcon } from '../icons';
import { SessionState } from '../session';
import { ITabSpec, MeshTabs } from '../tabs';
import { IScienceMeshContext } from './context';
import { SessionHeader } from './header';
import { SCIENCEMESH_TABS } from './tabs';

/**
 * DOM id of the ScienceMesh side panel.
 */
export const SCIENCEMESH_PANEL_ID = 'mesh-zenodo-sciencemesh';

/**
 * The left-sidebar panel: session header, then tabs.
 *
 * The tabs are built on the first successful session, so nothing asks the
 * storage for files while it is unreachable.
 */
export class ScienceMeshPanel extends SidePanel {
  constructor(
    context: IScienceMeshContext,
    tabs: ReadonlyArray<ITabSpec<IScienceMeshContext>> = SCIENCEMESH_TABS
  ) {
    super({ content: new Panel(), translator: context.translator });
    this.id = SCIENCEMESH_PANEL_ID;
    this.addClass('mz-ScienceMeshPanel');
    this.title.icon = sciencemeshIcon;
    this.title.caption = 'ScienceMesh';
    this._context = context;
    this._tabSpecs = tabs;

    const heading = new Widget({ node: document.createElement('h2') });
    heading.addClass('mz-Panel-title');
    heading.node.textContent = 'ScienceMesh';
    this.header.addWidget(heading);

    this.addWidget(new SessionHeader(context.session));
    context.session.stateChanged.connect(this._onSessionChanged, this);
    this._onSessionChanged(context.session, context.session.state);
  }

  /**
   * The tabs, once a session has been established.
   */
  get tabs(): MeshTabs<IScienceMeshContext> | null {
    return this._tabs;
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._context.session.stateChanged.disconnect(this._onSessionChanged, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Ask for the session the first time the panel is opened.
    if (this._context.session.state.kind === 'idle') {
      void this._context.session.refresh();
    }
  }

  private _onSessionChanged(sender: unknown, state: SessionState): void {
    if (state.kind === 'connected') {
      if (!this._tabs) {
        this._tabs = new MeshTabs({
          tabs: this._tabSpecs,
          context: this._context
        });
        this.addWidget(this._tabs);
      } else {
        this._tabs.show();
      }
    } else if (state.kind === 'error') {
      this._tabs?.hide();
    }
  }

  private _context: IScienceMeshContext;
  private _tabSpecs: ReadonlyArray<ITabSpec<IScienceMeshContext>>;
  private _tabs: MeshTabs<IScienceMeshContext> | null = null;
}

import { Message } from '@lumino/messaging';
import { Panel } from '@lumino/widgets';

import { sciencemeshIcon } from '../icons';
import { TabbedSidePanel } from '../panel';
import { IScienceMeshContext, SessionState } from '../tokens';
import { SessionHeader } from './header';

/**
 * DOM id of the ScienceMesh side panel.
 */
export const SCIENCEMESH_PANEL_ID = 'mesh-zenodo-sciencemesh';

/**
 * The left-sidebar panel: session header, then tabs (My Files; others come
 * from other plugins through `addTab`).
 *
 * The tabs are shown once the session has answered, except when Lab's files
 * are local (no CS3 storage in use). My Files asks the storage for files only
 * while there is a session; without one it says why (see `myfiles.ts`).
 */
export class ScienceMeshPanel extends TabbedSidePanel<IScienceMeshContext> {
  constructor(context: IScienceMeshContext) {
    const trans = context.translator.load('mesh_zenodo');
    super({
      id: SCIENCEMESH_PANEL_ID,
      className: 'mz-ScienceMeshPanel',
      icon: sciencemeshIcon,
      label: trans.__('ScienceMesh'),
      context,
      translator: context.translator
    });
    (this.content as Panel).insertWidget(0, new SessionHeader(context.session, trans));
    context.session.stateChanged.connect(this._onSessionChanged, this);
    this._onSessionChanged(context.session, context.session.state);
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.context.session.stateChanged.disconnect(this._onSessionChanged, this);
    super.dispose();
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    // Ask for the session the first time the panel is opened.
    if (this.context.session.state.kind === 'idle') {
      void this.context.session.refresh();
    }
  }

  private _onSessionChanged(sender: unknown, state: SessionState): void {
    if (state.kind === 'connected' || state.kind === 'error') {
      // on an error, My Files says why it is empty (and asks nothing of the storage)
      this.showTabs();
    } else if (state.kind === 'local') {
      this.hideTabs();
    }
  }
}

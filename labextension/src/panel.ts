import { ITranslator } from '@jupyterlab/translation';
import { LabIcon, SidePanel } from '@jupyterlab/ui-components';
import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';
import { Panel, Widget } from '@lumino/widgets';

import { MeshTabs } from './tabs';
import { ITabbedPanel, ITabSpec } from './tokens';

/**
 * A left-sidebar panel: a heading, then tabs that plugins add with `addTab`.
 *
 * The tab bar is built by `showTabs()`; tabs added before wait for it, so a
 * panel can keep its tabs (and what they ask the server) back until it is
 * ready.
 */
export class TabbedSidePanel<TContext>
  extends SidePanel
  implements ITabbedPanel<TContext>
{
  constructor(options: TabbedSidePanel.IOptions<TContext>) {
    super({ content: new Panel(), translator: options.translator });
    this.id = options.id;
    this.addClass('mz-SidePanel');
    this.addClass(options.className);
    this.title.icon = options.icon;
    this.title.caption = options.label;
    this._context = options.context;

    const heading = new Widget({ node: document.createElement('h2') });
    heading.addClass('mz-SidePanel-title');
    heading.node.textContent = options.label;
    this.header.addWidget(heading);
  }

  get context(): TContext {
    return this._context;
  }

  /**
   * The tabs, once `showTabs` has built them.
   */
  get tabs(): MeshTabs<TContext> | null {
    return this._tabs;
  }

  get tabsChanged(): ISignal<this, void> {
    return this._tabsChanged;
  }

  addTab(spec: ITabSpec<TContext>): IDisposable {
    if (this._specs.has(spec.id)) {
      throw new Error(`mesh-zenodo: a tab "${spec.id}" exists already`);
    }
    this._specs.set(spec.id, spec);
    if (this._tabs) {
      this._handles.set(spec.id, this._tabs.addTab(spec));
    } else {
      this._pending.set(spec.id, spec);
    }
    this._tabsChanged.emit();
    return new DisposableDelegate(() => {
      if (this._specs.get(spec.id) !== spec) {
        return;
      }
      this._specs.delete(spec.id);
      this._pending.delete(spec.id);
      this._handles.get(spec.id)?.dispose();
      this._handles.delete(spec.id);
      this._tabsChanged.emit();
    });
  }

  select(id: string): boolean {
    return this._tabs?.select(id) ?? false;
  }

  isEnabled(id: string): boolean {
    const spec = this._specs.get(id);
    return !!spec && !!spec.create && spec.disabledReason === undefined;
  }

  /**
   * Build the tab bar (with the tabs added so far) or show it again.
   */
  protected showTabs(): void {
    if (this._tabs) {
      this._tabs.show();
      return;
    }
    this._tabs = new MeshTabs<TContext>({ context: this._context });
    this.addWidget(this._tabs);
    for (const spec of this._pending.values()) {
      this._handles.set(spec.id, this._tabs.addTab(spec));
    }
    this._pending.clear();
  }

  /**
   * Hide the tab bar (e.g. while there is no session).
   */
  protected hideTabs(): void {
    this._tabs?.hide();
  }

  private _context: TContext;
  private _tabs: MeshTabs<TContext> | null = null;
  private _specs = new Map<string, ITabSpec<TContext>>();
  private _pending = new Map<string, ITabSpec<TContext>>();
  private _tabsChanged = new Signal<this, void>(this);
  private _handles = new Map<string, IDisposable>();
}

export namespace TabbedSidePanel {
  export interface IOptions<TContext> {
    /** DOM id (and layout-restorer key). */
    id: string;
    /** The panel's own class, `mz-<Name>Panel`. */
    className: string;
    icon: LabIcon;
    /** Heading and sidebar tooltip (already translated). */
    label: string;
    context: TContext;
    translator: ITranslator;
  }
}

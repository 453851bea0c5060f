import { DisposableDelegate, IDisposable } from '@lumino/disposable';
import { Message } from '@lumino/messaging';
import {
  BoxLayout,
  PanelLayout,
  StackedPanel,
  TabBar,
  Title,
  Widget
} from '@lumino/widgets';

import { ITabSpec } from './tokens';

/**
 * A tab bar over a stack of lazily built pages, with disabled tabs. Tabs are
 * added (and removed) at any time with `addTab`, and ordered by rank.
 */
export class MeshTabs<TContext> extends Widget {
  constructor(options: { context: TContext }) {
    super();
    this.addClass('mz-Tabs');
    this._context = options.context;

    const isDisabled = (title: Title<Widget>) => this._disabled.has(title);
    this.tabBar = new MeshTabBar(isDisabled);
    this.tabBar.addClass('mz-Tabs-bar');
    this.stack = new StackedPanel();
    this.stack.addClass('mz-Tabs-stack');

    const layout = new BoxLayout({ direction: 'top-to-bottom', spacing: 0 });
    BoxLayout.setStretch(this.tabBar, 0);
    BoxLayout.setStretch(this.stack, 1);
    layout.addWidget(this.tabBar);
    layout.addWidget(this.stack);
    this.layout = layout;

    this.tabBar.currentChanged.connect(this._onCurrentChanged, this);
  }

  readonly tabBar: TabBar<Widget>;
  readonly stack: StackedPanel;

  /**
   * The context handed to the tabs' factories.
   */
  get context(): TContext {
    return this._context;
  }

  /**
   * Add a tab at its rank; disposing the result removes it. The first enabled
   * tab added becomes the current one.
   */
  addTab(spec: ITabSpec<TContext>): IDisposable {
    if (this._pages.has(spec.id)) {
      throw new Error(`mesh-zenodo: a tab "${spec.id}" exists already`);
    }
    const rank = spec.rank ?? Number.MAX_SAFE_INTEGER;
    const page = new TabPage<TContext>(spec, rank);
    const title = page.title;
    title.label = spec.label;
    title.className = 'mz-Tabs-tab';
    title.dataset = { testid: `mz-tab-${spec.id}` };
    if (spec.disabledReason !== undefined || !spec.create) {
      this._disabled.add(title);
      title.className += ' mz-mod-disabled';
      title.caption = spec.disabledReason ?? '';
    } else {
      title.caption = spec.caption ?? '';
    }

    // after the last tab of lower or equal rank
    const titles = this.tabBar.titles;
    let index = titles.length;
    while (index > 0 && (titles[index - 1].owner as TabPage<TContext>).rank > rank) {
      index--;
    }
    this._pages.set(spec.id, page);
    this.stack.addWidget(page);
    this.tabBar.insertTab(index, title);
    if (!this.tabBar.currentTitle || this._disabled.has(this.tabBar.currentTitle)) {
      if (!this._disabled.has(title)) {
        this.tabBar.currentTitle = title;
      }
    }
    this._showOnly(this.tabBar.currentTitle);
    return new DisposableDelegate(() => this._removeTab(spec.id));
  }

  /**
   * Select the tab `id`; returns false when it is unknown or disabled.
   */
  select(id: string): boolean {
    const page = this._pages.get(id);
    if (!page || this._disabled.has(page.title)) {
      return false;
    }
    this.tabBar.currentTitle = page.title;
    return true;
  }

  /**
   * The content of tab `id` if it has been built.
   */
  contentOf(id: string): Widget | null {
    return this._pages.get(id)?.content ?? null;
  }

  private _removeTab(id: string): void {
    const page = this._pages.get(id);
    if (!page || this.isDisposed) {
      return;
    }
    this._pages.delete(id);
    this._disabled.delete(page.title);
    this.tabBar.removeTab(page.title);
    page.dispose();
    if (!this.tabBar.currentTitle) {
      const first = this.tabBar.titles.find(t => !this._disabled.has(t));
      if (first) {
        this.tabBar.currentTitle = first;
      }
    }
    this._showOnly(this.tabBar.currentTitle);
  }

  private _onCurrentChanged(
    sender: TabBar<Widget>,
    args: TabBar.ICurrentChangedArgs<Widget>
  ): void {
    this._showOnly(args.currentTitle);
  }

  private _showOnly(title: Title<Widget> | null): void {
    for (const page of this._pages.values()) {
      if (page.title === title) {
        page.ensureContent(this._context);
        page.show();
      } else {
        page.hide();
      }
    }
  }

  private _context: TContext;
  private _pages = new Map<string, TabPage<TContext>>();
  private _disabled = new Set<Title<Widget>>();
}

/**
 * A tab bar that refuses to select disabled tabs and marks them for a11y.
 */
class MeshTabBar extends TabBar<Widget> {
  constructor(isDisabled: (title: Title<Widget>) => boolean) {
    super({
      renderer: new MeshTabRenderer(isDisabled),
      tabsMovable: false,
      allowDeselect: false,
      insertBehavior: 'none',
      removeBehavior: 'none'
    });
    this._isDisabled = isDisabled;
    this.node.setAttribute('role', 'tablist');
  }

  get currentIndex(): number {
    return super.currentIndex;
  }

  set currentIndex(index: number) {
    const title = this.titles[index];
    if (title && this._isDisabled(title)) {
      return;
    }
    super.currentIndex = index;
  }

  private _isDisabled: (title: Title<Widget>) => boolean;
}

class MeshTabRenderer extends TabBar.Renderer {
  constructor(private _isDisabled: (title: Title<any>) => boolean) {
    super();
  }

  createTabARIA(data: TabBar.IRenderData<any>) {
    const aria = super.createTabARIA(data);
    return this._isDisabled(data.title)
      ? { ...aria, 'aria-disabled': 'true' }
      : aria;
  }
}

/**
 * The page behind one tab; builds its content on first show.
 */
class TabPage<TContext> extends Widget {
  constructor(spec: ITabSpec<TContext>, readonly rank: number) {
    super();
    this._spec = spec;
    this.addClass('mz-TabPage');
    this.node.dataset.tabId = spec.id;
    this.layout = new PanelLayout();
  }

  get content(): Widget | null {
    return this._content;
  }

  ensureContent(context: TContext): void {
    if (this._content || !this._spec.create || this._spec.disabledReason) {
      return;
    }
    this._content = this._spec.create(context);
    this._content.addClass('mz-TabPage-content');
    this._content.node.dataset.tabId = this._spec.id;
    (this.layout as PanelLayout).addWidget(this._content);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._content?.update();
  }

  private _spec: ITabSpec<TContext>;
  private _content: Widget | null = null;
}

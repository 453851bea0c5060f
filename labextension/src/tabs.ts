import { Message } from '@lumino/messaging';
import {
  BoxLayout,
  PanelLayout,
  StackedPanel,
  TabBar,
  Title,
  Widget
} from '@lumino/widgets';

/**
 * One tab of a panel.
 *
 * A panel lists its tabs in an array of these; adding a tab is adding an
 * entry. A tab without `create`, or with `disabledReason`, is shown greyed
 * out and cannot be selected.
 */
export interface ITabSpec<TContext> {
  /** Short id: the tab gets the class `mz-tab-<id>` and `data-testid="mz-tab-<id>"`. */
  id: string;
  /** The tab's text. */
  label: string;
  /** Tooltip of an enabled tab. */
  caption?: string;
  /** Builds the tab's content, the first time the tab is shown. */
  create?: (context: TContext) => Widget;
  /** When set, the tab is disabled and this is its tooltip. */
  disabledReason?: string;
}

/**
 * Options of a `MeshTabs` widget.
 */
export interface IMeshTabsOptions<TContext> {
  tabs: ReadonlyArray<ITabSpec<TContext>>;
  /** Handed to each tab's `create`. */
  context: TContext;
}

/**
 * A tab bar over a stack of lazily built pages, with disabled tabs.
 */
export class MeshTabs<TContext> extends Widget {
  constructor(options: IMeshTabsOptions<TContext>) {
    super();
    this.addClass('mz-Tabs');
    this._context = options.context;

    const isDisabled = (title: Title<Widget>) => this._disabled.has(title);
    this.tabBar = new MeshTabBar(isDisabled);
    this.tabBar.addClass('mz-Tabs-bar');
    this.stack = new StackedPanel();
    this.stack.addClass('mz-Tabs-stack');

    for (const spec of options.tabs) {
      const page = new TabPage<TContext>(spec);
      const title = page.title;
      title.label = spec.label;
      title.className = `mz-tab mz-tab-${spec.id}`;
      title.dataset = { testid: `mz-tab-${spec.id}` };
      if (spec.disabledReason !== undefined || !spec.create) {
        this._disabled.add(title);
        title.className += ' mz-mod-disabled';
        title.caption = spec.disabledReason ?? '';
      } else {
        title.caption = spec.caption ?? '';
      }
      this._pages.set(spec.id, page);
      this.stack.addWidget(page);
      this.tabBar.addTab(title);
    }

    const layout = new BoxLayout({ direction: 'top-to-bottom', spacing: 0 });
    BoxLayout.setStretch(this.tabBar, 0);
    BoxLayout.setStretch(this.stack, 1);
    layout.addWidget(this.tabBar);
    layout.addWidget(this.stack);
    this.layout = layout;

    this.tabBar.currentChanged.connect(this._onCurrentChanged, this);
    const first = this.tabBar.titles.findIndex(t => !isDisabled(t));
    this.tabBar.currentIndex = first;
    this._showOnly(this.tabBar.currentTitle);
  }

  readonly tabBar: TabBar<Widget>;
  readonly stack: StackedPanel;

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

  /**
   * The context handed to the tabs' factories.
   */
  get context(): TContext {
    return this._context;
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
  constructor(spec: ITabSpec<TContext>) {
    super();
    this._spec = spec;
    this.addClass('mz-TabPage');
    this.addClass(`mz-TabPage-${spec.id}`);
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
    this._content.addClass(`mz-tab-${this._spec.id}-content`);
    (this.layout as PanelLayout).addWidget(this._content);
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    this._content?.update();
  }

  private _spec: ITabSpec<TContext>;
  private _content: Widget | null = null;
}

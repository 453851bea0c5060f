import { TranslationBundle } from '@jupyterlab/translation';

import { button, h } from '../../dom';
import { ISearchPage } from '../api';

/**
 * The buttons under the results: ‹ Prev, "page 2 of 5", Next ›. Nothing when
 * everything fits on one page.
 */
export function renderPager(
  page: ISearchPage<unknown>,
  pages: number,
  trans: TranslationBundle,
  goTo: (page: number) => void
): HTMLElement[] {
  if (page.total <= page.size && page.page === 1) {
    return [];
  }
  const prev = button(trans.__('‹ Prev'), {
    className: 'mz-Pager-prev',
    testid: 'mz-zenodo-prev',
    disabled: page.page <= 1,
    onClick: () => goTo(page.page - 1)
  });
  const next = button(trans.__('Next ›'), {
    className: 'mz-Pager-next',
    testid: 'mz-zenodo-next',
    disabled: page.page >= pages || !page.has_next,
    onClick: () => goTo(page.page + 1)
  });
  return [
    prev,
    h(
      'span',
      { className: 'mz-Pager-page', testid: 'mz-zenodo-page' },
      trans.__('page %1 of %2', page.page, pages)
    ),
    next
  ];
}

import { TranslationBundle } from '@jupyterlab/translation';

import { h, onActivate } from '../../dom';
import { ICommunity, IRecordSummary, ISearchPage } from '../api';
import { htmlToText, snippet } from '../format';

/**
 * "12 results", "1 community"...
 */
export function renderCount(
  total: number,
  kind: 'records' | 'communities',
  trans: TranslationBundle
): HTMLElement {
  const count = total.toLocaleString('en');
  return h(
    'span',
    { className: 'mz-ZenodoSearch-count', testid: 'mz-zenodo-count' },
    kind === 'records'
      ? trans._n('%2 result', '%2 results', total, count)
      : trans._n('%2 community', '%2 communities', total, count)
  );
}

/**
 * The records found, as a table (title and creators, type, date); a row opens
 * the record's details.
 */
export function renderRecords(
  page: ISearchPage<IRecordSummary>,
  query: string,
  trans: TranslationBundle,
  open: (record: IRecordSummary) => void
): HTMLElement {
  if (!page.hits.length) {
    return h(
      'div',
      { className: 'mz-Empty', testid: 'mz-zenodo-empty' },
      query ? trans.__('No records match %1.', query) : trans.__('No records.')
    );
  }
  const body = h('tbody', {});
  for (const record of page.hits) {
    const id = String(record.id);
    const creators =
      record.creators.slice(0, 2).join('; ') +
      (record.creators.length > 2 ? trans.__(' et al.') : '');
    const row = h(
      'tr',
      {
        className: 'mz-RecordTable-row',
        testid: 'mz-zenodo-result',
        title: trans.__('Show the details'),
        attrs: { tabindex: '0', 'data-record-id': id }
      },
      h(
        'td',
        { className: 'mz-RecordTable-title' },
        h('div', { className: 'mz-RecordTable-name' }, record.title || trans.__('Record %1', id)),
        creators && h('div', { className: 'mz-RecordTable-creators' }, creators)
      ),
      h('td', { className: 'mz-RecordTable-type' }, record.resource_type?.title ?? ''),
      h('td', { className: 'mz-RecordTable-date' }, record.publication_date ?? '')
    );
    onActivate(row, () => open(record));
    body.append(row);
  }
  const column = (className: string, label: string) =>
    h('th', { className, attrs: { scope: 'col' } }, label);
  return h(
    'table',
    { className: 'mz-RecordTable', testid: 'mz-zenodo-results' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        column('mz-RecordTable-colTitle', trans.__('Title')),
        column('mz-RecordTable-colType', trans.__('Resource Type')),
        column('mz-RecordTable-colDate', trans.__('Date Published'))
      )
    ),
    body
  );
}

/**
 * The communities found; one opens the search of its records.
 */
export function renderCommunities(
  page: ISearchPage<ICommunity>,
  query: string,
  trans: TranslationBundle,
  open: (community: ICommunity) => void
): HTMLElement {
  if (!page.hits.length) {
    return h(
      'div',
      { className: 'mz-Empty', testid: 'mz-zenodo-empty' },
      query ? trans.__('No communities match %1.', query) : trans.__('No communities.')
    );
  }
  const list = h('ul', { className: 'mz-CommunityList', testid: 'mz-zenodo-communities' });
  for (const community of page.hits) {
    const description = snippet(htmlToText(community.description), 140);
    const item = h(
      'li',
      {
        className: 'mz-CommunityList-item',
        testid: 'mz-zenodo-community',
        title: trans.__('Show the records of %1', community.title),
        attrs: { tabindex: '0', role: 'button', 'data-slug': community.slug }
      },
      h(
        'div',
        { className: 'mz-CommunityList-head' },
        h('span', { className: 'mz-CommunityList-title' }, community.title),
        community.type && h('span', { className: 'mz-Badge' }, community.type)
      ),
      description && h('div', { className: 'mz-CommunityList-description' }, description)
    );
    onActivate(item, () => open(community));
    list.append(item);
  }
  return list;
}

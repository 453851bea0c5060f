import { IZenodoFailure, failureTitle } from './api';
import { Child, h } from './dom';

/**
 * An error box: a heading, the server's message as it is, and what to do.
 */
export function errorBox(
  failure: IZenodoFailure,
  options: { testid?: string; title?: string; extra?: Child[] } = {}
): HTMLElement {
  const hint =
    failure.retryAfter !== null
      ? `Zenodo asks to wait ${Math.ceil(failure.retryAfter)} s before trying again.`
      : null;
  return h(
    'div',
    {
      className: 'mz-zenodo-error',
      testid: options.testid ?? 'mz-zenodo-error',
      attrs: { role: 'alert', 'data-reason': failure.reason || undefined }
    },
    h('div', { className: 'mz-zenodo-error-title' }, options.title ?? failureTitle(failure)),
    h('div', { className: 'mz-zenodo-error-message' }, failure.message),
    hint && h('div', { className: 'mz-zenodo-error-hint' }, hint),
    ...(options.extra ?? [])
  );
}

import { Child, h } from './dom';

/**
 * A failure as an error box shows it. Each part of the plugin turns its own
 * failures into this (the CS3 session, the Zenodo calls...).
 */
export interface IFailureView {
  /** A short heading, e.g. "Invalid token". */
  title: string;
  /** The server's message, shown as it is. */
  message: string;
  /** What to do about it, if anything. */
  hint?: string | null;
  /** The error class the server named; kept on the box as `data-reason`. */
  reason?: string;
}

/**
 * The error box of both panels: a heading, the message, a hint, then `extra`
 * (details, a retry button...).
 */
export function errorBox(
  failure: IFailureView,
  options: { testid?: string; extra?: Child[] } = {}
): HTMLElement {
  return h(
    'div',
    {
      className: 'mz-ErrorBox',
      testid: options.testid,
      attrs: { role: 'alert', 'data-reason': failure.reason || undefined }
    },
    h('div', { className: 'mz-ErrorBox-title' }, failure.title),
    h('div', { className: 'mz-ErrorBox-message' }, failure.message),
    failure.hint && h('div', { className: 'mz-ErrorBox-hint' }, failure.hint),
    ...(options.extra ?? [])
  );
}

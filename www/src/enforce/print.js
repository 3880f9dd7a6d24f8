// Print control. When print is refused, the print style hides the page and
// prints a notice instead, Ctrl+P and Cmd+P are swallowed, window.print does
// nothing, and every attempt is reported as `print_blocked`. When print is
// allowed, each print is reported as `printed`; the watermark module adds the
// overlay that repeats on every printed page.

const REFUSED_CLASS = 'valise-print-refused';

/** Text of the notice printed in place of a document that may not be printed. */
export const PRINT_NOTICE = 'The originator of this document did not allow printing. The printed copy contains only this notice.';

function isPrintShortcut(event) {
  return (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === 'p' || event.key === 'P' || event.code === 'KeyP');
}

/** Installs the print control; returns a function that removes it. */
export function controlPrint({ allowed, report, doc = document, win = window }) {
  if (allowed) {
    const onBeforePrint = () => report('printed', {});
    win.addEventListener('beforeprint', onBeforePrint);
    return () => win.removeEventListener('beforeprint', onBeforePrint);
  }

  doc.documentElement.classList.add(REFUSED_CLASS);
  const notice = doc.createElement('div');
  notice.className = 'valise-print-notice';
  notice.setAttribute('aria-hidden', 'true');
  notice.textContent = PRINT_NOTICE;
  doc.body.append(notice);

  const onKeyDown = (event) => {
    if (!isPrintShortcut(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    report('print_blocked', { via: 'shortcut' });
  };
  const onBeforePrint = () => report('print_blocked', { via: 'browser' });

  // The page's own code and extensions may call window.print; the replacement
  // reports the attempt and opens no dialog.
  const ownPrint = Object.getOwnPropertyDescriptor(win, 'print');
  const blockedPrint = function print() {
    report('print_blocked', { via: 'window.print' });
  };
  Object.defineProperty(win, 'print', { configurable: true, writable: true, value: blockedPrint });

  win.addEventListener('keydown', onKeyDown, { capture: true });
  win.addEventListener('beforeprint', onBeforePrint);

  return () => {
    win.removeEventListener('keydown', onKeyDown, { capture: true });
    win.removeEventListener('beforeprint', onBeforePrint);
    if (ownPrint) {
      Object.defineProperty(win, 'print', ownPrint);
    } else {
      delete win.print;
    }
    notice.remove();
    doc.documentElement.classList.remove(REFUSED_CLASS);
  };
}

// Print control. When print is refused, the print style hides the page and
// prints a notice instead, Ctrl+P and Cmd+P are swallowed, window.print does
// nothing, and every attempt is reported as `print_blocked`. When print is
// allowed, each print is reported as `printed`; the watermark module adds the
// overlay that repeats on every printed page.
//
// When print is allowed and the rights require access events, the `printed`
// event must be queued before anything of the document prints. The browser
// fires `beforeprint` synchronously and cannot wait for IndexedDB, so the
// print style hides the page by default, as for a refused print. Ctrl+P,
// Cmd+P and window.print queue the event first and only then lift the hiding
// and open the browser's print dialog. A print started from the browser's
// menu prints only the notice.

const REFUSED_CLASS = 'valise-print-refused';

/** Text of the notice printed in place of a document that may not be printed. */
export const PRINT_NOTICE = 'The originator of this document did not allow printing. The printed copy contains only this notice.';

/** Text of the notice printed in place of a document whose print was not recorded first. */
export const PRINT_HELD_NOTICE =
  'This document may be printed only after the viewer has recorded the print for its originator. Print it with Ctrl+P (Cmd+P on a Mac) in the viewer. This printed copy contains only this notice.';

function isPrintShortcut(event) {
  return (event.ctrlKey || event.metaKey) && !event.altKey && (event.key === 'p' || event.key === 'P' || event.code === 'KeyP');
}

/** Adds the notice printed in place of the page; returns it. */
function addNotice(doc, text) {
  const notice = doc.createElement('div');
  notice.className = 'valise-print-notice';
  notice.setAttribute('aria-hidden', 'true');
  notice.textContent = text;
  doc.body.append(notice);
  return notice;
}

/**
 * Installs the print control; returns a function that removes it.
 *
 * With `recorded` true (print allowed and access events required),
 * `queueEvent(kind, detail)` must resolve once the event is durably queued
 * and reject when it cannot be. `onRefused(message)` receives the sentence
 * shown to the reader when a print did not go ahead.
 */
export function controlPrint({ allowed, recorded = false, report, queueEvent, onRefused = () => {}, doc = document, win = window }) {
  if (allowed && recorded) {
    return controlRecordedPrint({ queueEvent, onRefused, doc, win });
  }
  if (allowed) {
    const onBeforePrint = () => report('printed', {});
    win.addEventListener('beforeprint', onBeforePrint);
    return () => win.removeEventListener('beforeprint', onBeforePrint);
  }

  doc.documentElement.classList.add(REFUSED_CLASS);
  const notice = addNotice(doc, PRINT_NOTICE);

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
    restorePrint(win, ownPrint);
    notice.remove();
    doc.documentElement.classList.remove(REFUSED_CLASS);
  };
}

/**
 * Print allowed, access events required: the page prints only while a
 * print whose `printed` event is queued runs.
 */
function controlRecordedPrint({ queueEvent, onRefused, doc, win }) {
  const root = doc.documentElement;
  root.classList.add(REFUSED_CLASS);
  const notice = addNotice(doc, PRINT_HELD_NOTICE);
  const ownPrint = Object.getOwnPropertyDescriptor(win, 'print');
  const browserPrint = win.print;

  let removed = false;
  let queueing = false;
  // True from the moment a recorded print lifts the hiding until it ends.
  let released = false;
  // True between the beforeprint and afterprint of a released print.
  let printing = false;

  const hold = () => {
    released = false;
    printing = false;
    if (!removed) root.classList.add(REFUSED_CLASS);
  };

  const printRecorded = (via) => {
    if (queueing || released) return;
    queueing = true;
    Promise.resolve()
      .then(() => queueEvent('printed', { via }))
      .then(
        () => {
          queueing = false;
          if (removed) return;
          released = true;
          root.classList.remove(REFUSED_CLASS);
          try {
            browserPrint.call(win);
          } finally {
            // Chromium fires beforeprint and afterprint inside the call. A
            // browser that printed nothing by now gets the hiding back at
            // once, so a later print from its menu shows only the notice.
            if (!printing) hold();
          }
        },
        (error) => {
          queueing = false;
          onRefused(`The document was not printed, because its access event could not be queued. ${error?.message ?? error}`);
        },
      );
  };

  const onKeyDown = (event) => {
    if (!isPrintShortcut(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    printRecorded('shortcut');
  };
  const onBeforePrint = () => {
    if (released) {
      printing = true;
      return;
    }
    onRefused('The browser printed only a notice, because this document may be printed only after the viewer has recorded the print for its originator. Print it with Ctrl+P (Cmd+P on a Mac) instead.');
  };
  const onAfterPrint = () => {
    if (printing) hold();
  };
  // The replacement queues the event; the dialog opens once it is queued.
  const recordedPrint = function print() {
    printRecorded('window.print');
  };
  Object.defineProperty(win, 'print', { configurable: true, writable: true, value: recordedPrint });

  win.addEventListener('keydown', onKeyDown, { capture: true });
  win.addEventListener('beforeprint', onBeforePrint);
  win.addEventListener('afterprint', onAfterPrint);

  return () => {
    removed = true;
    win.removeEventListener('keydown', onKeyDown, { capture: true });
    win.removeEventListener('beforeprint', onBeforePrint);
    win.removeEventListener('afterprint', onAfterPrint);
    restorePrint(win, ownPrint);
    notice.remove();
    root.classList.remove(REFUSED_CLASS);
  };
}

function restorePrint(win, ownPrint) {
  if (ownPrint) {
    Object.defineProperty(win, 'print', ownPrint);
  } else {
    delete win.print;
  }
}

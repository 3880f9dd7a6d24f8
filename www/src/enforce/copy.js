// Copy control. When copy is refused, the content cannot be selected, and
// copy, cut, drag and the context menu are cancelled inside it. A copy or cut
// puts nothing on the clipboard. Each attempt is reported as `copy_blocked`.

const NO_COPY_CLASS = 'valise-no-copy';

/** Returns true when the current selection touches the root. */
function selectionTouches(root, doc) {
  const selection = doc.getSelection?.();
  if (!selection || selection.rangeCount === 0) return false;
  for (let index = 0; index < selection.rangeCount; index += 1) {
    if (selection.getRangeAt(index).intersectsNode(root)) return true;
  }
  return false;
}

/** Installs the copy control on `root`; returns a function that removes it. */
export function controlCopy({ root, allowed, report, doc = document }) {
  if (allowed) {
    return () => {};
  }
  root.classList.add(NO_COPY_CLASS);

  const concerns = (event) => (event.target instanceof Node && root.contains(event.target)) || selectionTouches(root, doc);

  const onClipboard = (event) => {
    if (!concerns(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    // With the default action cancelled, the clipboard receives exactly this data.
    event.clipboardData?.setData('text/plain', '');
    report('copy_blocked', { action: event.type });
  };
  const onReported = (event) => {
    if (!concerns(event)) return;
    event.preventDefault();
    report('copy_blocked', { action: event.type });
  };
  const onSelectStart = (event) => {
    if (event.target instanceof Node && root.contains(event.target)) event.preventDefault();
  };

  const listeners = [
    ['copy', onClipboard],
    ['cut', onClipboard],
    ['dragstart', onReported],
    ['contextmenu', onReported],
    ['selectstart', onSelectStart],
  ];
  for (const [type, listener] of listeners) doc.addEventListener(type, listener, { capture: true });

  return () => {
    for (const [type, listener] of listeners) doc.removeEventListener(type, listener, { capture: true });
    root.classList.remove(NO_COPY_CLASS);
  };
}

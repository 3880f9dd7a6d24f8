// The watermark: the text the decision point composed (reader, organization,
// time, package id) tiled over the content as an SVG background, and over
// every printed page when printing is allowed. A MutationObserver puts it
// back when it is removed, hidden or restyled. A periodic check catches style
// sheets that hide it. Each restoration is reported as `watermark_removed`.

/** Tile size of the watermark pattern, in CSS pixels. */
const TILE = { width: 420, height: 240 };

/** Interval of the computed-style check, in milliseconds. */
export const CHECK_INTERVAL_MS = 1000;

/** Shortest time between two reports of the same kind of removal, in milliseconds. */
export const REPORT_INTERVAL_MS = 10_000;

/** Escapes text for XML character data and attribute values. */
export function escapeXml(text) {
  return String(text).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Builds the SVG tile for a watermark text as a CSS `url()` value. Lines of
 * the text (split on newlines and on " · ") become separate rows.
 */
export function watermarkImage(text) {
  const lines = String(text).split(/\n| · /).map((line) => line.trim()).filter(Boolean).slice(0, 6);
  const lineHeight = 20;
  const top = TILE.height / 2 - ((lines.length - 1) * lineHeight) / 2;
  const rows = lines.map((line, index) => `<tspan x="${TILE.width / 2}" y="${top + index * lineHeight}">${escapeXml(line)}</tspan>`).join('');
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${TILE.width}" height="${TILE.height}">`,
    `<text transform="rotate(-24 ${TILE.width / 2} ${TILE.height / 2})" text-anchor="middle" `,
    'font-family="sans-serif" font-size="15" fill="#5a5a5a" fill-opacity="0.28">',
    rows,
    '</text></svg>',
  ].join('');
  return `url("data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}")`;
}

/** Returns the reason an overlay does not show, or null when it shows. */
function hiddenReason(overlay, parent, { print }) {
  if (!overlay.isConnected || overlay.parentNode !== parent) return 'removed';
  if (print) return null;
  const style = getComputedStyle(overlay);
  if (style.display === 'none') return 'display';
  if (style.visibility !== 'visible') return 'visibility';
  if (Number(style.opacity) < 0.99) return 'opacity';
  if (!style.backgroundImage.includes('data:image/svg+xml')) return 'background';
  if (style.transform !== 'none' || style.clipPath !== 'none' || style.filter !== 'none') return 'transform';
  if (style.zIndex !== '2147483000') return 'stacking';
  if (overlay.getBoundingClientRect().width === 0 && parent.getBoundingClientRect().width > 0) return 'size';
  return null;
}

/**
 * Installs the watermark over `root`, and over printed pages when `print` is
 * true. Returns a function that removes it.
 */
export function applyWatermark({ root, text, print, report, doc = document, win = window }) {
  const image = watermarkImage(text);
  const guarded = [
    { parent: root, className: 'valise-watermark', print: false },
    ...(print ? [{ parent: doc.body, className: 'valise-watermark-print', print: true }] : []),
  ];

  // Inline !important declarations win over any author style sheet, so a
  // rule that hides the class does not take effect at all. The print overlay
  // leaves `display` to the print style sheet.
  const shown = {
    position: 'absolute', inset: '0', width: 'auto', height: 'auto', 'z-index': '2147483000',
    display: 'block', visibility: 'visible', opacity: '1', transform: 'none', 'clip-path': 'none',
    filter: 'none', mask: 'none', 'pointer-events': 'none', 'background-size': 'auto', 'background-repeat': 'repeat',
  };
  const printShown = { visibility: 'visible', opacity: '1', transform: 'none', 'clip-path': 'none', filter: 'none', mask: 'none' };

  const build = (entry) => {
    const overlay = doc.createElement('div');
    overlay.className = entry.className;
    overlay.setAttribute('aria-hidden', 'true');
    overlay.dataset.valiseWatermark = '';
    for (const [property, value] of Object.entries(entry.print ? printShown : shown)) {
      overlay.style.setProperty(property, value, 'important');
    }
    overlay.style.setProperty('background-image', image, 'important');
    entry.style = overlay.getAttribute('style');
    entry.overlay = overlay;
    entry.parent.append(overlay);
  };

  const attributesTampered = (entry) => {
    const overlay = entry.overlay;
    if (overlay.className !== entry.className) return 'class';
    if (overlay.hasAttribute('hidden')) return 'hidden';
    if (overlay.getAttribute('style') !== entry.style) return 'style';
    return null;
  };

  // A tampering that persists (a script that keeps removing the overlay) is
  // restored every time but reported at most once per interval and kind.
  const lastReported = new Map();
  const reportRemoval = (how, layer) => {
    const key = `${layer}:${how}`;
    const now = Date.now();
    if (now - (lastReported.get(key) ?? -Infinity) < REPORT_INTERVAL_MS) return;
    lastReported.set(key, now);
    report('watermark_removed', { how, layer });
  };

  let observer = null;
  const observe = () => {
    for (const entry of guarded) {
      observer.observe(entry.parent, { childList: true });
      observer.observe(entry.overlay, { attributes: true });
    }
  };
  const check = () => {
    let restored = false;
    for (const entry of guarded) {
      const how = hiddenReason(entry.overlay, entry.parent, entry) ?? attributesTampered(entry);
      if (how === null) continue;
      entry.overlay.remove();
      build(entry);
      restored = true;
      reportRemoval(how, entry.print ? 'print' : 'screen');
    }
    if (restored) {
      // The restoration itself queued mutation records; drop them so it does not loop.
      observer.takeRecords();
      observe();
    }
  };

  for (const entry of guarded) build(entry);
  root.classList.add('valise-enforced');
  observer = new MutationObserver(check);
  observe();
  const timer = win.setInterval(check, CHECK_INTERVAL_MS);

  return () => {
    observer.disconnect();
    win.clearInterval(timer);
    for (const entry of guarded) entry.overlay.remove();
    root.classList.remove('valise-enforced');
  };
}

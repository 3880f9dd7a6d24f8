// TLP 2.0 labels as the viewer shows them (FIRST, Traffic Light Protocol
// 2.0): the text with its "TLP:" prefix and the CSS class carrying the
// standard colour on black.

const CLASSES = {
  CLEAR: 'tlp-clear',
  GREEN: 'tlp-green',
  AMBER: 'tlp-amber',
  'AMBER+STRICT': 'tlp-amber-strict',
  RED: 'tlp-red',
};

/** Returns `{ text, className }` for a label value, or an "unlabelled" banner. */
export function tlpBanner(label) {
  const tlp = label?.tlp;
  if (!tlp || !(tlp in CLASSES)) {
    return { text: 'UNLABELLED: no handling label was signed by the originator', className: 'tlp-none' };
  }
  return { text: `TLP:${tlp}`, className: CLASSES[tlp] };
}

// Unicode bidirectional control characters in untrusted text. An originator,
// a reader or a document can put them in a name, a file name or a CSV cell
// so the text reads differently than it is: "report\u202Efdp.exe" shows as
// "reportexe.pdf". The viewer shows each such character as a visible token
// and sets each untrusted string in its own bidi isolate, so it can neither
// reorder itself unseen nor the text around it.

/**
 * The bidi formatting characters of the Unicode Bidirectional Algorithm
 * (UAX #9): embeddings and overrides U+202A to U+202E, isolates U+2066 to
 * U+2069, and the marks U+200E, U+200F and U+061C.
 */
export const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * The characters `revealBidi` replaces: the bidi controls and every other
 * code point with the Unicode property Default_Ignorable_Code_Point. These
 * include U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER and U+FEFF, which draw
 * as nothing, so "alice\u200B" reads as "alice". The CLI escapes the same set.
 * NOTE: the ranges are a hand-made copy of the property (unchanged since
 * Unicode 14); a later Unicode version may add code points.
 */
export const HIDDEN_CHARACTERS =
  /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0\uFFF0-\uFFF8\u{1BCA0}-\u{1BCA3}\u{1D173}-\u{1D17A}\u{E0000}-\u{E0FFF}]/gu;

/**
 * Returns `text` with each bidi control and other invisible character
 * (`HIDDEN_CHARACTERS`) replaced by a visible token such as "⟨U+202E⟩" or
 * "⟨U+200B⟩". Values that are not strings are converted with `String`
 * first; `null` and `undefined` stay as they are.
 */
export function revealBidi(text) {
  if (text === null || text === undefined) {
    return text;
  }
  return String(text).replace(HIDDEN_CHARACTERS, (char) => `⟨U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/**
 * Returns `text` with only its bidi controls (`BIDI_CONTROLS`) replaced by
 * visible tokens. It is for document content (CSV cells, STIX and MISP
 * fields). There the zero-width joiner, the non-joiner and the variation
 * selectors are part of emoji and of scripts such as Persian, so they stay.
 * A bidi control could still make one indicator read as another.
 */
export function revealBidiControls(text) {
  if (text === null || text === undefined) {
    return text;
  }
  return String(text).replace(BIDI_CONTROLS, (char) => `⟨U+${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}

/**
 * Creates a `<bdi>` element holding `text` with its bidi controls revealed,
 * or returns `null` for `null`, `undefined` and the empty string. `<bdi>`
 * isolates the text and takes its direction from its own first strong
 * character, so a right-to-left name still reads correctly.
 */
export function isolate(text, doc = document) {
  if (text === null || text === undefined || text === '') {
    return null;
  }
  const node = doc.createElement('bdi');
  node.textContent = revealBidi(text);
  return node;
}

/**
 * Replaces the bidi controls in every text node under `root` with visible
 * tokens. Used for STIX and MISP reports, whose fields are names and
 * indicators. Prose documents (text, Markdown, PDF) keep their marks, which
 * right-to-left languages need.
 */
export function revealBidiInText(root) {
  if (!root) {
    return;
  }
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const revealed = revealBidiControls(node.data);
    if (revealed !== node.data) {
      node.data = revealed;
    }
  }
}

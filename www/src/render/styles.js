// The renderers' style sheet, built in script as a constructed style sheet so
// the portal's Content-Security-Policy needs no inline <style>.

const RULES = `
.valise-render { position: relative; }
.valise-text { white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
.valise-image { max-width: 100%; height: auto; }
.valise-frame { width: 100%; height: 80vh; border: 1px solid #ccc; background: #fff; }
.valise-table-scroll { overflow-x: auto; }
.valise-table { border-collapse: collapse; }
.valise-table th, .valise-table td { border: 1px solid #bbb; padding: 0.2rem 0.45rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
/* Each field of a document is a bidi isolate, so a bidi control in it cannot
   reorder its neighbours. csv.js reveals the controls themselves, and the
   document screen does so for STIX and MISP reports. */
.valise-table th, .valise-table td, .valise-table caption, .valise-render dd, .valise-render li, .valise-tag, .valise-stix-pattern, .valise-render h3, .valise-render h4 { unicode-bidi: isolate; }
.valise-tags { list-style: none; display: flex; flex-wrap: wrap; gap: 0.25rem; margin: 0; padding: 0; }
.valise-tag { border: 1px solid #888; border-radius: 0.6rem; padding: 0 0.45rem; font-size: 0.85em; }
.valise-stix-pattern { overflow-wrap: anywhere; }
.valise-stix-object { border-top: 1px solid #ddd; padding: 0.5rem 0; }
.valise-notice { font-style: italic; }
.valise-pdf { display: flex; flex-direction: column; align-items: center; gap: 12px; }
.valise-pdf-page { position: relative; background: #fff; box-shadow: 0 1px 4px rgb(0 0 0 / 35%); }
.valise-pdf-canvas { display: block; }
.valise-pdf-links { position: absolute; inset: 0; }
.valise-pdf-link { position: absolute; display: block; }
.valise-pdf-text { position: absolute; inset: 0; overflow: hidden; line-height: 1; text-align: initial; opacity: 1; forced-color-adjust: none; }
.valise-pdf-text span, .valise-pdf-text br { color: transparent; position: absolute; white-space: pre; cursor: text; transform-origin: 0 0; }
.valise-pdf-text ::selection { background: rgb(0 90 255 / 25%); }
`;

let adopted = false;

/** Adopts the renderers' style sheet into the document once. */
export function adoptRenderStyles(doc = document) {
  if (adopted) return;
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(RULES);
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  adopted = true;
}

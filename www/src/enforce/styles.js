// The enforcement style sheet, built in script as a constructed style sheet:
// it applies at once (no network round trip before a print could start) and
// needs no inline <style>, which the portal's Content-Security-Policy forbids.

const RULES = `
.valise-enforced { position: relative; }
.valise-no-copy, .valise-no-copy * { -webkit-user-select: none !important; user-select: none !important; -webkit-touch-callout: none !important; }
.valise-watermark {
  position: absolute; inset: 0; z-index: 2147483000; pointer-events: none;
  display: block; visibility: visible; opacity: 1;
  background-repeat: repeat; print-color-adjust: exact; -webkit-print-color-adjust: exact;
}
.valise-watermark-print, .valise-print-notice { display: none; }
@media print {
  .valise-watermark-print {
    display: block; position: fixed; inset: 0; z-index: 2147483000; pointer-events: none;
    background-repeat: repeat; print-color-adjust: exact; -webkit-print-color-adjust: exact;
  }
  html.valise-print-refused body > :not(.valise-print-notice) { display: none !important; }
  html.valise-print-refused .valise-print-notice { display: block !important; font: 14pt/1.4 sans-serif; margin: 2cm; }
}
`;

let sheet = null;
let users = 0;

/** Adopts the enforcement style sheet into the document; call the returned function to drop it. */
export function adoptStyles(doc = document) {
  if (sheet === null) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(RULES);
  }
  if (users === 0) {
    doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
  }
  users += 1;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    users -= 1;
    if (users === 0) {
      doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((adopted) => adopted !== sheet);
    }
  };
}

// Enforcement of the usage rights around rendered content: print, copy and
// the watermark. These are deterrents for an honest viewer: a reader with the
// browser's developer tools can defeat each of them (docs/enforcement.md).
import { controlCopy } from './copy.js';
import { controlPrint } from './print.js';
import { adoptStyles } from './styles.js';
import { applyWatermark } from './watermark.js';

/**
 * Applies the rights to `root` and the page.
 *
 * `rights` is `{ view, print, copy, forward, export, watermark }`; `watermark`
 * is the text to tile over the content, or null for none; `onEvent(kind,
 * detail)` receives `print_blocked`, `printed`, `copy_blocked` and
 * `watermark_removed`. Returns `{ release() }`, which removes every control.
 */
export function enforce({ root, rights = {}, watermark = null, onEvent = () => {} }) {
  const report = (kind, detail) => {
    try {
      onEvent(kind, detail);
    } catch (error) {
      // A failing event sink must not switch the controls off.
      console.error('enforce: the event handler failed', error);
    }
  };

  const releases = [adoptStyles()];
  releases.push(controlPrint({ allowed: Boolean(rights.print), report }));
  releases.push(controlCopy({ root, allowed: Boolean(rights.copy), report }));
  if (typeof watermark === 'string' && watermark.trim() !== '') {
    releases.push(applyWatermark({ root, text: watermark, print: Boolean(rights.print), report }));
  }

  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      for (const release of releases.reverse()) release();
    },
  };
}

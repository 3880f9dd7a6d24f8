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
 *
 * When `rights.eventsRequired` is true and print is allowed, a print goes
 * ahead only after `queueEvent('printed', detail)` resolved. It must resolve
 * once the access event is durably queued, and `onEvent` then does not
 * receive `printed`. `onRefused(message)` receives the sentence to show the reader
 * when such a print did not go ahead.
 */
export function enforce({ root, rights = {}, watermark = null, onEvent = () => {}, queueEvent = rejectUnqueued, onRefused = () => {} }) {
  const report = (kind, detail) => {
    try {
      onEvent(kind, detail);
    } catch (error) {
      // A failing event sink must not switch the controls off.
      console.error('enforce: the event handler failed', error);
    }
  };

  const releases = [adoptStyles()];
  releases.push(controlPrint({ allowed: Boolean(rights.print), recorded: Boolean(rights.eventsRequired), report, queueEvent, onRefused }));
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

/** The `queueEvent` of a viewer that queues no access events. */
function rejectUnqueued() {
  return Promise.reject(new Error('This viewer does not queue access events, so it cannot record the print for the originator.'));
}

// PDF documents drawn on canvas with pdf.js, one page at a time as it scrolls
// into view. No scripting bundle is loaded, XFA is off, no form or action
// annotation is drawn as a control, and nothing prints by itself. Links become
// plain anchors only when they are http or https. The text layer exists only
// when the rights allow copy, so a refused copy leaves no text to select.
import { pdfRangeTransport } from '../worker/pdf-range.js';
import { element } from './dom.js';

/** Folder of the vendored pdf.js build (library, worker, fonts, character maps, decoders). */
export const PDFJS_BASE = new URL('../../vendor/pdfjs/', import.meta.url);

/** Link schemes that become anchors; every other link in a PDF is dropped. */
export const LINK_PROTOCOLS = new Set(['http:', 'https:']);

/** Pages drawn ahead of the visible ones, as a margin of the scroll viewport. */
const PREFETCH_MARGIN = '100% 0px';

/** Widest page drawn, in CSS pixels; narrower containers scale pages down. */
const MAX_PAGE_WIDTH = 1000;

/**
 * Page slots made at once. More are made as the reader scrolls near the
 * last one, so a PDF of 100,000 pages does not put 100,000 elements in the
 * page before its first page shows.
 */
const SLOT_BATCH = 100;

/** Space between pages in CSS pixels (the `gap` of `.valise-pdf` in styles.js). */
const PAGE_GAP = 12;

let library = null;

/** Loads pdf.js once and points it at its same-origin worker. */
async function loadLibrary() {
  library ??= (async () => {
    const pdfjs = await import(new URL('pdf.min.mjs', PDFJS_BASE).href);
    pdfjs.GlobalWorkerOptions.workerSrc = new URL('pdf.worker.min.mjs', PDFJS_BASE).href;
    return pdfjs;
  })();
  return library;
}

/** Returns the `http:` or `https:` URL of a link annotation, or null. */
export function safeLinkUrl(annotation) {
  if (annotation.subtype !== 'Link' || typeof annotation.url !== 'string') return null;
  try {
    const url = new URL(annotation.url);
    return LINK_PROTOCOLS.has(url.protocol) ? url.href : null;
  } catch {
    return null;
  }
}

/**
 * Returns the getDocument source of a StreamedPlaintext: pdf.js requests the
 * byte ranges it needs through the range transport, each handed over only
 * after its segments verified, and fetches nothing ahead by itself.
 */
function streamSource(pdfjs, stream) {
  return { range: pdfRangeTransport(pdfjs, stream), length: stream.size, disableAutoFetch: true, disableStream: true };
}

/**
 * Opens the document and draws its pages lazily into the container, from
 * `bytes` or, for a PDF still decrypting, from `stream`.
 */
export async function render(container, { bytes, stream = null, rights, signal = null }) {
  // Shown until the pages replace it: pdf.js may take a while on a large
  // file, and longer on a damaged one, whose objects it searches for.
  // TODO: on a damaged streamed PDF that search took 8 s at 20 MiB and
  // about a minute at 60 MiB. Sending the rest of the file for each range
  // request once the stream was done cut 20 MiB to 1.3 s, but painted
  // a flat 100 MiB PDF later (636 against 555 ms). Sending 8 MiB, or
  // doubling from there, still took 4.7 s. NOTE: the damage that causes it
  // is not known. A broken startxref or shifted table offsets did not slow
  // it at 10 to 30 MiB.
  container.replaceChildren(element('p', { className: 'valise-notice', role: 'status' }, 'Reading the PDF…'));
  const pdfjs = await loadLibrary();
  const loadingTask = pdfjs.getDocument({
    // pdf.js transfers the buffer to its worker; a copy keeps the caller's bytes intact.
    ...(stream === null ? { data: bytes.slice() } : streamSource(pdfjs, stream)),
    // pdf.js 6.5.438 has no eval code path and ignores this option, and the
    // portal's policy forbids eval anyway. It stays so an older build keeps eval off.
    isEvalSupported: false,
    enableXfa: false,
    disableWorkerRendering: true,
    useSystemFonts: false,
    standardFontDataUrl: new URL('standard_fonts/', PDFJS_BASE).href,
    cMapUrl: new URL('cmaps/', PDFJS_BASE).href,
    cMapPacked: true,
    wasmUrl: new URL('wasm/', PDFJS_BASE).href,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  let passwordRequired = false;
  loadingTask.onPassword = () => {
    passwordRequired = true;
    loadingTask.destroy();
  };

  // A failed stream never delivers the ranges pdf.js waits for, so the load
  // ends here. A destroyed loading task may never settle its promise, so the
  // stream's failure also ends the wait below. So does closing the document
  // (`signal`), which may come while pdf.js still parses a large file.
  stream?.done.catch(() => loadingTask.destroy());
  const ended = [];
  if (stream !== null) ended.push(stream.done.then(() => new Promise(() => {})));
  if (signal !== null) {
    ended.push(
      new Promise((_, reject) => {
        const stop = () => {
          loadingTask.destroy();
          reject(new Error('the document was closed'));
        };
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });
      }),
    );
  }
  for (const end of ended) end.catch(() => {});
  /** Settles with `promise`, or rejects when the stream fails or the document closes first. */
  const unlessEnded = (promise) => {
    // A rejection after the stream failed ("Worker was terminated") is expected.
    promise.catch(() => {});
    return ended.length === 0 ? promise : Promise.race([promise, ...ended]);
  };

  let pdf;
  try {
    pdf = await unlessEnded(loadingTask.promise);
  } catch (error) {
    stream?.limitBackground(Infinity);
    if (stream?.failed) {
      throw stream.failed;
    }
    if (passwordRequired || error?.name === 'PasswordException') {
      throw new Error('the PDF is protected by its own password, which the viewer does not ask for');
    }
    throw new Error(`pdf.js could not read the PDF (${error?.message ?? error})`);
  }

  const pages = element('div', { className: 'valise-pdf', role: 'document', 'aria-label': `PDF document, ${pdf.numPages} pages` });
  container.replaceChildren(pages);

  const width = Math.min(container.clientWidth || MAX_PAGE_WIDTH, MAX_PAGE_WIDTH);
  const firstPage = await unlessEnded(pdf.getPage(1));
  const baseViewport = firstPage.getViewport({ scale: 1 });
  const scale = width / baseViewport.width;

  const slotWidth = Math.floor(baseViewport.width * scale);
  const slotHeight = Math.floor(baseViewport.height * scale);
  const newSlot = (number) => {
    const slot = element('div', {
      className: 'valise-pdf-page',
      'data-page-number': number,
      'aria-label': `Page ${number}`,
    });
    slot.style.width = `${slotWidth}px`;
    slot.style.height = `${slotHeight}px`;
    return slot;
  };
  // Pages without a slot yet are stood in for by one element as tall as
  // they would be, so the scroll bar spans the whole document.
  const rest = element('div', { className: 'valise-pdf-rest', 'aria-hidden': 'true' });
  rest.style.width = `${slotWidth}px`;
  pages.append(rest);
  let slotCount = 0;
  const drawn = new Set();
  const tasks = new Set();
  let destroyed = false;

  const drawPage = async (slot) => {
    const number = Number(slot.dataset.pageNumber);
    if (drawn.has(number) || destroyed) return;
    drawn.add(number);
    const page = number === 1 ? firstPage : await pdf.getPage(number);
    const viewport = page.getViewport({ scale });
    const outputScale = window.devicePixelRatio || 1;

    const canvas = element('canvas', { className: 'valise-pdf-canvas', 'aria-hidden': 'true' });
    canvas.width = Math.floor(viewport.width * outputScale);
    canvas.height = Math.floor(viewport.height * outputScale);
    canvas.style.width = `${Math.floor(viewport.width)}px`;
    canvas.style.height = `${Math.floor(viewport.height)}px`;
    slot.style.width = canvas.style.width;
    slot.style.height = canvas.style.height;
    slot.replaceChildren(canvas);

    const task = page.render({
      canvas,
      viewport,
      transform: outputScale === 1 ? undefined : [outputScale, 0, 0, outputScale, 0, 0],
      annotationMode: pdfjs.AnnotationMode.ENABLE,
    });
    tasks.add(task);
    try {
      await task.promise;
    } catch (error) {
      if (error?.name !== 'RenderingCancelledException') throw error;
      return;
    } finally {
      tasks.delete(task);
      // With a page on screen, the rest of the stream decrypts at full speed.
      stream?.limitBackground(Infinity);
    }
    if (destroyed) return;

    if (rights?.copy) {
      const textLayer = element('div', { className: 'valise-pdf-text textLayer' });
      textLayer.style.setProperty('--scale-factor', String(scale));
      textLayer.style.setProperty('--total-scale-factor', String(scale));
      slot.append(textLayer);
      await new pdfjs.TextLayer({ textContentSource: page.streamTextContent(), container: textLayer, viewport }).render();
    }
    slot.append(linkLayer(await page.getAnnotations({ intent: 'display' }), viewport));
    slot.dataset.rendered = 'true';
    slot.dispatchEvent(new CustomEvent('valise-page-rendered', { bubbles: true, detail: { pageNumber: number } }));
  };

  const draw = (slot) => {
    drawPage(slot).catch((error) => {
      slot.replaceChildren(element('p', { className: 'valise-notice' }, `Page ${slot.dataset.pageNumber} could not be drawn: ${error?.message ?? error}`));
    });
  };
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          draw(entry.target);
        }
      }
    },
    { rootMargin: PREFETCH_MARGIN },
  );

  /** Makes the next SLOT_BATCH slots, and drops the stand-in after the last page. */
  const makeSlots = () => {
    const end = Math.min(pdf.numPages, slotCount + SLOT_BATCH);
    const batch = [];
    for (let number = slotCount + 1; number <= end; number += 1) {
      const slot = newSlot(number);
      batch.push(slot);
      // Page one is drawn at once, below.
      if (number !== 1) observer.observe(slot);
    }
    slotCount = end;
    rest.before(...batch);
    const left = pdf.numPages - slotCount;
    if (left === 0) {
      restObserver.disconnect();
      rest.remove();
      return;
    }
    rest.style.height = `${left * (slotHeight + PAGE_GAP) - PAGE_GAP}px`;
    // Observing again reports at once whether the stand-in is still near
    // the viewport, as after a jump to the end, so batches follow until
    // the slots reach the viewport.
    restObserver.unobserve(rest);
    restObserver.observe(rest);
  };
  const restObserver = new IntersectionObserver(
    (entries) => {
      if (!destroyed && entries.some((entry) => entry.isIntersecting)) makeSlots();
    },
    { rootMargin: PREFETCH_MARGIN },
  );
  makeSlots();
  // The document opens at its top, so page one is drawn now rather than
  // after the observer's first report.
  draw(pages.firstElementChild);

  return {
    pageCount: pdf.numPages,
    destroy() {
      destroyed = true;
      observer.disconnect();
      restObserver.disconnect();
      for (const task of tasks) task.cancel();
      loadingTask.destroy();
      // A zero-sized canvas drops its bitmap, so no drawn page survives in a
      // canvas that some other code still references.
      for (const canvas of pages.querySelectorAll('canvas')) {
        canvas.width = 0;
        canvas.height = 0;
      }
    },
  };
}

/**
 * Builds anchors over the http and https link annotations of a page.
 * NOTE: links to a destination inside the document (a table of contents)
 * are dropped too; the reader scrolls instead.
 */
function linkLayer(annotations, viewport) {
  const layer = element('div', { className: 'valise-pdf-links' });
  for (const annotation of annotations) {
    const href = safeLinkUrl(annotation);
    if (href === null || !Array.isArray(annotation.rect)) continue;
    const [x1, y1] = viewport.convertToViewportPoint(annotation.rect[0], annotation.rect[1]);
    const [x2, y2] = viewport.convertToViewportPoint(annotation.rect[2], annotation.rect[3]);
    const link = element('a', {
      className: 'valise-pdf-link',
      href,
      target: '_blank',
      rel: 'noopener noreferrer',
      referrerpolicy: 'no-referrer',
      title: href,
    });
    link.style.left = `${Math.min(x1, x2)}px`;
    link.style.top = `${Math.min(y1, y2)}px`;
    link.style.width = `${Math.abs(x2 - x1)}px`;
    link.style.height = `${Math.abs(y2 - y1)}px`;
    layer.append(link);
  }
  return layer;
}

// Registers the portal's service worker (www/sw.js), which keeps the
// portal's files for use with no network, and asks it which build this page
// was served from. The page then stays on that build until it reloads.

/** Header the service worker sets on an offline copy: when it was fetched online. */
export const FETCHED_AT_HEADER = 'Valise-Fetched-At';

/**
 * Registers the service worker. Once this page is controlled by it, from
 * the load or from the moment a new worker claims it, sets `data-build-id`
 * on the root element to the build the page runs. Sets
 * `data-offline-ready` once a complete build is cached.
 */
export async function registerServiceWorker() {
  if (!('serviceWorker' in navigator)) {
    return null;
  }
  const root = new URL('../', import.meta.url);
  const registration = await navigator.serviceWorker.register(new URL('sw.js', root), { scope: root.pathname });
  if (navigator.serviceWorker.controller) {
    document.documentElement.dataset.buildId = (await askWorker({ type: 'valise-build' }))?.build ?? '';
  } else {
    // The worker claims this page once it is active (www/sw.js, "activate").
    navigator.serviceWorker.addEventListener(
      'controllerchange',
      async () => {
        document.documentElement.dataset.buildId = (await askWorker({ type: 'valise-build' }))?.build ?? '';
      },
      { once: true },
    );
  }
  navigator.serviceWorker.ready.then(() => {
    document.documentElement.dataset.offlineReady = 'true';
  });
  return registration;
}

/** Asks the service worker to look for a newer build now; resolves to its id. */
export async function checkForUpdate() {
  await navigator.serviceWorker.ready;
  const worker = navigator.serviceWorker.controller ?? (await navigator.serviceWorker.getRegistration())?.active;
  return askWorker({ type: 'valise-check-update' }, worker);
}

/** Sends a message to the service worker and resolves to its reply of the same type. */
function askWorker(message, worker = navigator.serviceWorker.controller) {
  const replyType = message.type === 'valise-check-update' ? 'valise-update' : message.type;
  return new Promise((resolve) => {
    if (!worker) {
      resolve(null);
      return;
    }
    const onMessage = (event) => {
      if (event.data?.type === replyType) {
        navigator.serviceWorker.removeEventListener('message', onMessage);
        resolve(event.data);
      }
    };
    navigator.serviceWorker.addEventListener('message', onMessage);
    worker.postMessage(message);
  });
}

/**
 * When the trust list in `response` was fetched online: the time in the
 * service worker's header for an offline copy, else now.
 */
export function trustFetchedAt(response, now = new Date()) {
  const header = response.headers.get(FETCHED_AT_HEADER);
  const parsed = header ? new Date(header) : null;
  return parsed && !Number.isNaN(parsed.getTime()) ? parsed : now;
}

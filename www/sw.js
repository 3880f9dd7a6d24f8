// The portal's service worker: keeps one complete, verified set of the
// portal's files per build so the portal opens with no network, and keeps
// each open page on the build it loaded with until that page reloads.
//
// - build.json lists every precached file with its SHA-256 and the build id.
//   A build is downloaded whole, each file checked against its hash, before
//   its cache is marked complete; only a complete build becomes the one new
//   pages load.
// - Each page (client) is bound to the build its navigation was served from,
//   and every later request of that page is answered from that build's cache.
//   On activation the worker claims the pages already open, the one that
//   registered it included, and binds them to the build it just installed.
//   A build's cache is deleted once no open page uses it.
// - config.json and the trust list are fetched from the network first and
//   kept as the last good copy for offline use; the copy carries the time it
//   was fetched, from which the package's offline lease counts.
// - Nothing else is cached: packages (including `?src=` downloads) and
//   plaintext never enter a cache.
'use strict';

const BUILD_PREFIX = 'valise-build-';
const META_CACHE = 'valise-meta';
const DATA_CACHE = 'valise-data';
const ACTIVE_KEY = 'active-build';
const CLIENT_KEY = 'client/';
/** Header on an offline copy of config.json or the trust list: when it was fetched. */
const FETCHED_AT_HEADER = 'Valise-Fetched-At';
/**
 * A page bound to a build may not be listed by clients.matchAll() yet while
 * its navigation is still loading; its binding is kept at least this long.
 */
const BINDING_GRACE_MS = 5 * 60 * 1000;

const scope = new URL(self.registration.scope);
const metaUrl = (name) => new URL(`.valise-meta/${name}`, scope).href;

let installing = null;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      await installLatestBuild();
      // The page that registered the worker fetched these before it was
      // controlled; keep a copy now so the next load works offline.
      await refreshData().catch(() => {});
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      // The page that registered this worker loaded from the network and
      // imports its renderers later. Controlling it now lets those imports
      // come from the cache, so a first visit works offline once the worker
      // is active.
      await bindUncontrolledClients();
      await self.clients.claim();
      await pruneBuilds();
    })(),
  );
});

self.addEventListener('message', (event) => {
  const data = event.data ?? {};
  const clientId = event.source?.id;
  if (data.type === 'valise-build' && clientId) {
    event.waitUntil(
      clientBuild(clientId).then((build) => event.source.postMessage({ type: 'valise-build', build })),
    );
  } else if (data.type === 'valise-check-update') {
    event.waitUntil(
      installLatestBuild()
        .then((build) => event.source?.postMessage({ type: 'valise-update', build }))
        .catch((error) => event.source?.postMessage({ type: 'valise-update', build: null, error: String(error?.message ?? error) })),
    );
  }
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) {
    return;
  }
  const path = url.pathname.slice(scope.pathname.length);
  if (request.mode === 'navigate') {
    event.respondWith(navigate(event, path));
    return;
  }
  event.respondWith(subresource(event, path, request));
});

/** Reads a small text value from the meta cache. */
async function readMeta(name) {
  const response = await (await caches.open(META_CACHE)).match(metaUrl(name));
  return response ? response.text() : null;
}

async function writeMeta(name, value) {
  await (await caches.open(META_CACHE)).put(metaUrl(name), new Response(value));
}

async function deleteMeta(name) {
  await (await caches.open(META_CACHE)).delete(metaUrl(name));
}

/** Hex SHA-256 of a buffer. */
async function sha256(buffer) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', buffer));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/**
 * Downloads the build that build.json names, unless it is already complete,
 * and makes it the build new pages load. Resolves to its id. Rejects, leaving
 * the current build in place, when any file is missing or differs from its
 * hash (for example a deployment caught half-way).
 */
function installLatestBuild() {
  installing ??= (async () => {
    const response = await fetch(new URL('build.json', scope), { cache: 'no-store' });
    if (!response.ok) {
      throw new Error(`build.json: HTTP ${response.status}`);
    }
    const manifest = await response.json();
    if (typeof manifest.buildId !== 'string' || !/^[0-9a-f]{16,64}$/.test(manifest.buildId) || typeof manifest.files !== 'object') {
      throw new Error('build.json: no valid buildId and files');
    }
    const name = BUILD_PREFIX + manifest.buildId;
    if ((await readMeta(`complete/${manifest.buildId}`)) === null) {
      // Fetch and check every file before anything is stored.
      const fetched = await Promise.all(
        Object.entries(manifest.files).map(async ([path, expected]) => {
          const fileResponse = await fetch(new URL(path, scope), { cache: 'no-store' });
          if (!fileResponse.ok) {
            throw new Error(`${path}: HTTP ${fileResponse.status}`);
          }
          const body = await fileResponse.arrayBuffer();
          const actual = await sha256(body);
          if (actual !== expected) {
            throw new Error(`${path}: SHA-256 ${actual} differs from build.json (${expected})`);
          }
          // Keep the server's headers: a page served from the cache must carry
          // the same Content-Security-Policy (frame-ancestors included).
          return [new URL(path, scope).href, new Response(body, { headers: fileResponse.headers })];
        }),
      );
      await caches.delete(name);
      const cache = await caches.open(name);
      await Promise.all(fetched.map(([url, fileResponse]) => cache.put(url, fileResponse)));
      await writeMeta(`complete/${manifest.buildId}`, String(Object.keys(manifest.files).length));
    }
    await writeMeta(ACTIVE_KEY, manifest.buildId);
    return manifest.buildId;
  })().finally(() => {
    installing = null;
  });
  return installing;
}

/** Returns the build a client was served from, or null. */
async function clientBuild(clientId) {
  const binding = clientId ? await readMeta(CLIENT_KEY + clientId) : null;
  return binding ? JSON.parse(binding).build : null;
}

/**
 * Binds each open page that has no build yet to the active build, before
 * the worker claims it, so the page keeps that build after a later update.
 * NOTE: such a page loaded its first files from the network. They match the
 * active build unless a new build was deployed between the page load and
 * this worker's install.
 */
async function bindUncontrolledClients() {
  const build = await readMeta(ACTIVE_KEY);
  if (!build) {
    return;
  }
  for (const client of await self.clients.matchAll({ includeUncontrolled: true, type: 'all' })) {
    if ((await readMeta(CLIENT_KEY + client.id)) === null) {
      await writeMeta(CLIENT_KEY + client.id, JSON.stringify({ build, at: Date.now() }));
    }
  }
}

/** Serves a navigation from the active build and binds the new page to it. */
async function navigate(event, path) {
  const build = await readMeta(ACTIVE_KEY);
  const cache = build ? await caches.open(BUILD_PREFIX + build) : null;
  const file = path === '' || path.endsWith('/') ? `${path}index.html` : path;
  const cached = cache ? await cache.match(new URL(file, scope).href) : undefined;
  if (!cached) {
    return fetch(event.request);
  }
  if (event.resultingClientId) {
    await writeMeta(CLIENT_KEY + event.resultingClientId, JSON.stringify({ build, at: Date.now() }));
  }
  // Look for a newer build in the background; it applies to the next load.
  event.waitUntil(installLatestBuild().catch(() => {}).then(pruneBuilds));
  return cached;
}

/** Serves a page's request from its own build, or from the network for anything not in it. */
async function subresource(event, path, request) {
  if (path === 'config.json' || (await isTrustListUrl(request.url))) {
    return networkFirst(request);
  }
  const build = (await clientBuild(event.clientId)) ?? (await readMeta(ACTIVE_KEY));
  if (build) {
    const cached = await (await caches.open(BUILD_PREFIX + build)).match(new URL(path, scope).href);
    if (cached) {
      return cached;
    }
  }
  // Not part of the build: packages, demo files, build.json. Never cached.
  return fetch(request);
}

/** Fetches config.json and the trust list it names, keeping a copy of each. */
async function refreshData() {
  const configUrl = new URL('config.json', scope).href;
  await networkFirst(new Request(configUrl));
  const config = await (await caches.open(DATA_CACHE)).match(configUrl);
  const { trustListUrl } = await config.json();
  const trustUrl = new URL(trustListUrl, scope);
  if (trustUrl.origin === scope.origin) {
    await networkFirst(new Request(trustUrl.href));
  }
}

/** Tells whether a URL is the trust list named by the last good config.json. */
async function isTrustListUrl(url) {
  const config = await (await caches.open(DATA_CACHE)).match(new URL('config.json', scope).href);
  if (!config) {
    return new URL(url).pathname.endsWith('.jws');
  }
  try {
    const { trustListUrl } = await config.json();
    return new URL(trustListUrl, scope).href === url;
  } catch {
    return false;
  }
}

/**
 * Fetches from the network and keeps a copy. Offline, it returns the copy,
 * with the time it was fetched in the Valise-Fetched-At header.
 */
async function networkFirst(request) {
  const cache = await caches.open(DATA_CACHE);
  const key = request.url.split('?')[0];
  try {
    const response = await fetch(request, { cache: 'no-store' });
    if (response.ok) {
      const body = await response.clone().arrayBuffer();
      const headers = new Headers({
        'Content-Type': response.headers.get('Content-Type') ?? 'application/octet-stream',
        [FETCHED_AT_HEADER]: new Date().toISOString(),
      });
      await cache.put(key, new Response(body, { headers }));
    }
    return response;
  } catch (error) {
    const copy = await cache.match(key);
    if (copy) {
      return copy;
    }
    throw error;
  }
}

/** Deletes the builds no open page uses and the bindings of closed pages. */
async function pruneBuilds() {
  const active = await readMeta(ACTIVE_KEY);
  const open = new Set((await self.clients.matchAll({ includeUncontrolled: true, type: 'all' })).map((client) => client.id));
  const meta = await caches.open(META_CACHE);
  const inUse = new Set([active]);
  for (const request of await meta.keys()) {
    const name = request.url.slice(metaUrl('').length);
    if (!name.startsWith(CLIENT_KEY)) {
      continue;
    }
    const binding = JSON.parse(await (await meta.match(request)).text());
    if (open.has(name.slice(CLIENT_KEY.length)) || Date.now() - binding.at < BINDING_GRACE_MS) {
      inUse.add(binding.build);
    } else {
      await deleteMeta(name);
    }
  }
  for (const name of await caches.keys()) {
    if (name.startsWith(BUILD_PREFIX) && !inUse.has(name.slice(BUILD_PREFIX.length))) {
      await caches.delete(name);
      await deleteMeta(`complete/${name.slice(BUILD_PREFIX.length)}`);
    }
  }
}

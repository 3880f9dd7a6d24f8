// Loads and checks the portal's config.json: the community root key
// fingerprints this portal trusts, where the trust list is, whether a stale
// trust list means warn or deny, and which access-event collectors the
// portal's Content-Security-Policy lets it reach.

/** The configuration, validated. Throws a sentence naming the bad field. */
export async function loadConfig(url = new URL('../config.json', import.meta.url)) {
  const response = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
  if (!response.ok) {
    throw new Error(`The portal configuration ${url} could not be loaded (HTTP ${response.status}).`);
  }
  return validateConfig(await response.json(), new URL('.', url));
}

/**
 * Checks the fields the viewer relies on and fills in defaults. Relative
 * URLs resolve against `base`, the folder of the configuration file.
 */
export function validateConfig(config, base = new URL('../', import.meta.url)) {
  const fail = (field, expected) => {
    throw new Error(`config.json: ${field} must be ${expected}.`);
  };
  if (config === null || typeof config !== 'object') {
    fail('the document', 'a JSON object');
  }
  const fingerprints = config.rootKeyFingerprints ?? [];
  if (!Array.isArray(fingerprints) || fingerprints.some((value) => typeof value !== 'string' || value === '')) {
    fail('rootKeyFingerprints', 'a list of non-empty strings');
  }
  if (typeof config.trustListUrl !== 'string' || config.trustListUrl === '') {
    fail('trustListUrl', 'a URL relative to the portal or absolute');
  }
  const stale = config.stale ?? 'warn';
  if (stale !== 'warn' && stale !== 'deny') {
    fail('stale', '"warn" or "deny"');
  }
  const events = config.events ?? {};
  const collectorOrigins = events.collectorOrigins ?? [];
  if (!Array.isArray(collectorOrigins) || collectorOrigins.some((origin) => typeof origin !== 'string' || !isOrigin(origin))) {
    fail('events.collectorOrigins', 'a list of origins such as "https://events.member.example" (scheme, host and port only)');
  }
  const embed = config.embed ?? {};
  const allowedOrigins = embed.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || allowedOrigins.some((origin) => typeof origin !== 'string' || origin !== new URL(origin).origin)) {
    fail('embed.allowedOrigins', 'a list of origins such as "https://intranet.example.org" (scheme, host and port only)');
  }
  return {
    communityName: typeof config.communityName === 'string' ? config.communityName : null,
    rootKeyFingerprints: fingerprints,
    trustListUrl: new URL(config.trustListUrl, base).href,
    stale,
    events: { collectorOrigins },
    embed: { allowedOrigins },
  };
}

/** Tells whether a text is exactly an origin (scheme, host and port). */
function isOrigin(text) {
  try {
    return new URL(text).origin === text;
  } catch {
    return false;
  }
}

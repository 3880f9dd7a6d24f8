// Browser storage of the viewer: IndexedDB only, and only what may be kept.
// Identities are stored as their passphrase-encrypted PKCS#8 PEM and their
// credential (a signed, public document); an unencrypted key is never
// written. The viewer state per community (highest trust list version seen,
// last time seen) lets the decision point detect a rolled-back trust list
// and a clock set back.

const DB_NAME = 'valise';
const DB_VERSION = 1;
const IDENTITIES = 'identities';
const COMMUNITY_STATE = 'communityState';
const ENCRYPTED_PEM = /^-----BEGIN ENCRYPTED PRIVATE KEY-----\r?\n/;

let opening = null;

function openDatabase() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(IDENTITIES)) {
        db.createObjectStore(IDENTITIES, { keyPath: 'id' });
      }
      if (!db.objectStoreNames.contains(COMMUNITY_STATE)) {
        db.createObjectStore(COMMUNITY_STATE, { keyPath: 'community' });
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

async function transact(storeName, mode, operation) {
  const db = await openDatabase();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction(storeName, mode);
    const request = operation(transaction.objectStore(storeName));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

/** Tells whether a PEM text is a passphrase-encrypted PKCS#8 key. */
export function isEncryptedPem(pem) {
  return ENCRYPTED_PEM.test(pem.trimStart());
}

/**
 * Saves an identity: `{ id, name, organization, keyPem, signKeyPem?, credential }`.
 * Throws unless `keyPem` and `signKeyPem` (the access-event signing key,
 * when given) are ENCRYPTED PRIVATE KEYs.
 */
export async function saveIdentity(identity) {
  if (!isEncryptedPem(identity.keyPem) || (identity.signKeyPem && !isEncryptedPem(identity.signKeyPem))) {
    throw new TypeError('only passphrase-encrypted key files are stored');
  }
  const record = {
    id: identity.id,
    name: identity.name,
    organization: identity.organization,
    keyPem: identity.keyPem.trim(),
    signKeyPem: identity.signKeyPem ? identity.signKeyPem.trim() : null,
    credential: identity.credential.trim(),
    savedAt: new Date().toISOString(),
  };
  await transact(IDENTITIES, 'readwrite', (store) => store.put(record));
  return record;
}

/** Lists the stored identities, oldest first. */
export async function listIdentities() {
  const records = (await transact(IDENTITIES, 'readonly', (store) => store.getAll())) ?? [];
  return records.sort((a, b) => a.savedAt.localeCompare(b.savedAt));
}

/** Removes a stored identity. */
export async function forgetIdentity(id) {
  await transact(IDENTITIES, 'readwrite', (store) => store.delete(id));
}

/** Returns `{ community, highestTrustVersion, lastSeen }` or null. */
export async function readCommunityState(community) {
  return (await transact(COMMUNITY_STATE, 'readonly', (store) => store.get(community))) ?? null;
}

/** Records the highest trust list version and the latest time seen, never lowering either. */
export async function recordCommunityState(community, { trustVersion, seenAt }) {
  const previous = await readCommunityState(community);
  const record = {
    community,
    highestTrustVersion: Math.max(previous?.highestTrustVersion ?? 0, trustVersion ?? 0),
    lastSeen: [previous?.lastSeen, seenAt].filter(Boolean).sort().at(-1) ?? null,
  };
  await transact(COMMUNITY_STATE, 'readwrite', (store) => store.put(record));
  return record;
}

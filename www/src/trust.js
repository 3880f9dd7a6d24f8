// The community trust list as the portal and the embedded viewer fetch it,
// and the offline lease that counts from that fetch.
import { TrustList } from './core.js';
import { AccessDeniedError, InternalError, ValiseError } from './errors.js';
import { trustFetchedAt } from './offline.js';

/**
 * Fetches the trust list that `config.trustListUrl` names and verifies it
 * against the pinned root key fingerprints. Resolves to `{ trustList,
 * fetched }`: `fetched` is when the list was fetched online, which for the
 * service worker's offline copy is when that copy was fetched. Rejects with
 * a ValiseError when the download fails or the list does not verify.
 */
export async function fetchTrustList(config) {
  const response = await fetch(config.trustListUrl, { cache: 'no-cache', credentials: 'same-origin' });
  if (!response.ok) {
    throw new ValiseError(`The community trust list could not be loaded from ${config.trustListUrl} (HTTP ${response.status}).`);
  }
  const text = await response.text();
  const fetched = trustFetchedAt(response);
  const trustList = TrustList.verify(text, { rootKeyFingerprints: config.rootKeyFingerprints });
  return { trustList, fetched };
}

/**
 * Fetches the trust list again, under the checks of `fetchTrustList`, so a
 * package's offline lease can count from now. `current` is the list in use
 * and `fetchedBefore` when it was fetched. Resolves to `{ trustList,
 * fetched }` for a list fetched from the network that verified and names
 * the same community. Resolves to null when the fetch or a check failed,
 * when only the service worker's offline copy came back, or when the list
 * names another community. A rolled-back list is refused by the decision
 * point, as at the first load.
 */
export async function refetchTrustList(config, { current, fetchedBefore }) {
  let refreshed;
  try {
    refreshed = await fetchTrustList(config);
  } catch (error) {
    if (error instanceof InternalError) {
      throw error;
    }
    return null;
  }
  // The offline copy carries the time of its own fetch, no later than the list in use.
  if (refreshed.trustList.summary.community !== current.summary.community || refreshed.fetched <= fetchedBefore) {
    return null;
  }
  return refreshed;
}

/**
 * Tells whether an open was denied because the package's offline lease
 * ended (`offline_lease_expired`). A trust list fetched online again starts
 * a new lease, so such an open is worth one more attempt.
 */
function isOfflineLeaseExpired(error) {
  return error instanceof AccessDeniedError && error.reasons.some((reason) => reason.code === 'offline_lease_expired');
}

/**
 * Returns `decide(now)`, the opened package. When that decision is denied
 * for an ended offline lease, calls `renew()`, which fetches the trust list
 * again and resolves to the time of that fetch, or to null when it failed.
 * It then decides once more at that time, because a lease of zero seconds
 * holds only at the moment of the fetch. Every other error is rethrown.
 */
export async function decideRenewingLease(decide, renew) {
  try {
    return decide(new Date());
  } catch (error) {
    if (!isOfflineLeaseExpired(error)) {
      throw error;
    }
    const fetched = await renew();
    if (fetched === null) {
      throw error;
    }
    return decide(fetched);
  }
}

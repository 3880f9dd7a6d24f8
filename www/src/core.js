// The one module that touches the WebAssembly glue. UI code imports the
// functions below and never calls the module directly, so every failure
// reaches it as one of the classes in errors.js, and a Rust panic becomes an
// InternalError carrying the panic message instead of a blank page.
import init, * as wasm from '../pkg/valise_wasm.js';
import { InternalError, KeyRequiredError, UnsupportedError, ValiseError, errorFromTagged, isTaggedError } from './errors.js';
import { STREAM_FROM_BYTES, keepStreamWorkersReady, prepareStreamWorker, startStream, streamWorkersReady } from './worker/stream.js';

const state = {
  ready: null,
  /** The message of the last Rust panic; after a panic the module is unusable. */
  panicMessage: null,
  internalErrorListeners: new Set(),
};

/**
 * Loads and instantiates the module once; later calls return the same
 * promise. `module`, an already compiled WebAssembly.Module of
 * pkg/valise_wasm_bg.wasm, is instantiated instead of fetching and
 * compiling the file (the benchmarks time those steps apart).
 */
export function loadCore(module = null) {
  state.ready ??= (async () => {
    try {
      await init({ module_or_path: module ?? new URL('../pkg/valise_wasm_bg.wasm', import.meta.url) });
    } catch (error) {
      throw new InternalError('The viewer module could not be loaded.', {
        cause: error,
        details: String(error?.message ?? error),
      });
    }
    wasm.setPanicHandler((message) => {
      state.panicMessage = message;
    });
    return { version: wasm.coreVersion() };
  })();
  return state.ready;
}

/**
 * Keeps decryption workers started and idle for the next large package,
 * and starts new ones after each stream, so a stream does not wait for a
 * worker to start. Call after loadCore. Resolves once the idle workers are
 * ready; a page without workers resolves at once.
 */
export function keepDecryptionWorkersReady() {
  if (typeof Worker === 'undefined') {
    return Promise.resolve();
  }
  keepStreamWorkersReady(init.__wbindgen_wasm_module ?? null);
  return streamWorkersReady();
}

/** Registers a listener called with every InternalError, for the error panel. */
export function onInternalError(listener) {
  state.internalErrorListeners.add(listener);
  return () => state.internalErrorListeners.delete(listener);
}

/** Converts anything a wasm call threw into a ValiseError. */
function toValiseError(thrown) {
  if (thrown instanceof ValiseError) {
    return thrown;
  }
  if (isTaggedError(thrown)) {
    return errorFromTagged(thrown);
  }
  if (thrown instanceof WebAssembly.RuntimeError || state.panicMessage !== null) {
    return new InternalError('The viewer hit an internal error and stopped. Reload the page to try again.', {
      cause: thrown,
      details: state.panicMessage ?? String(thrown?.message ?? thrown),
    });
  }
  return new InternalError('The viewer failed unexpectedly.', {
    cause: thrown,
    details: String(thrown?.stack ?? thrown?.message ?? thrown),
  });
}

/** Runs a wasm call, converting failures and refusing calls after a panic. */
function call(operation) {
  if (state.panicMessage !== null) {
    throw new InternalError('The viewer stopped after an internal error. Reload the page to try again.', {
      details: state.panicMessage,
    });
  }
  try {
    return operation();
  } catch (thrown) {
    const error = toValiseError(thrown);
    if (error instanceof InternalError) {
      for (const listener of state.internalErrorListeners) {
        listener(error);
      }
    }
    throw error;
  }
}

/**
 * Decrypts an encrypted PKCS#8 key file with WebCrypto: the module parses
 * the file and checks its parameters (`KeyFile.parse`), `crypto.subtle`
 * derives the AES-CBC key with PBKDF2 and decrypts. Resolves to the PKCS#8
 * bytes, or to an empty array when the decryption fails its padding check,
 * which the module then reports as a wrong passphrase. The passphrase is
 * imported as a non-extractable key, and its encoded bytes are zeroed. The
 * caller zeroes the returned bytes by handing them to the module.
 */
async function decryptKeyFile(keyPem, passphrase, { signing }) {
  const keyFile = call(() => wasm.KeyFile.parse(keyPem, signing));
  try {
    // Browsers define crypto.subtle only in secure contexts.
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) {
      throw new UnsupportedError(
        'Unlocking a key file needs the browser\'s WebCrypto (crypto.subtle), which browsers offer only to pages served over HTTPS or from localhost. Open this page at its https:// address.',
      );
    }
    const passphraseBytes = new TextEncoder().encode(passphrase);
    let passphraseKey;
    try {
      passphraseKey = await subtle.importKey('raw', passphraseBytes, 'PBKDF2', false, ['deriveKey']);
    } finally {
      passphraseBytes.fill(0);
    }
    let aesKey;
    try {
      aesKey = await subtle.deriveKey(
        { name: 'PBKDF2', hash: keyFile.hash, salt: keyFile.salt, iterations: keyFile.iterations },
        passphraseKey,
        { name: 'AES-CBC', length: keyFile.keyBits },
        false,
        ['decrypt'],
      );
    } catch (error) {
      // Chromium 156 rejects 192-bit AES keys (OperationError).
      throw new UnsupportedError(
        `The browser cannot derive an AES-${keyFile.keyBits} key for this key file (${error?.name}: ${error?.message}). Re-encrypt it with: openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -iter 600000 -in KEY.pem -out NEW.key.pem`,
        { cause: error },
      );
    }
    try {
      return new Uint8Array(await subtle.decrypt({ name: 'AES-CBC', iv: keyFile.iv }, aesKey, keyFile.ciphertext));
    } catch {
      return new Uint8Array(0);
    }
  } finally {
    keyFile.free();
  }
}

/** Triggers a Rust panic, to show and test the error state. */
export function debugPanic() {
  call(() => wasm.debugPanic());
}

/**
 * A verified community trust list. `summary` is
 * `{ community, communityName, version, issuedAt, nextUpdate, stale }`.
 */
export class TrustList {
  #handle;

  constructor(handle) {
    this.#handle = handle;
    this.summary = call(() => handle.summary());
  }

  /**
   * Verifies a trust list document against the pinned root key
   * fingerprints. A rolled-back or stale list is judged by the decision
   * point when a package opens.
   */
  static verify(text, { rootKeyFingerprints, now = new Date() }) {
    return new TrustList(call(() => wasm.TrustList.verify(text, rootKeyFingerprints, now.getTime())));
  }

  /** The wasm handle, for the other wrappers in this module only. */
  get handle() {
    return this.#handle;
  }
}

/**
 * An unlocked identity: the private key lives only inside the module's
 * memory and is zeroized by `lock()`. `summary` is
 * `{ person, name, organization, keyId, attributes, notAfter }`.
 */
export class Identity {
  #handle;

  constructor(handle, trustList) {
    this.#handle = handle;
    this.summary = call(() => handle.summary(trustList.handle));
  }

  /**
   * Decrypts an encrypted PKCS#8 key file with the passphrase (WebCrypto)
   * and checks that the credential names its public key. Resolves to the
   * identity. Rejects with PassphraseError for a wrong passphrase, and with
   * UnsupportedError for a key file WebCrypto cannot decrypt (scrypt) or a
   * page without WebCrypto (not HTTPS or localhost).
   */
  static async unlock({ keyPem, passphrase, credential, trustList }) {
    const pkcs8 = await decryptKeyFile(keyPem, passphrase, { signing: false });
    try {
      return new Identity(call(() => wasm.Identity.unlock(pkcs8, credential, trustList.handle)), trustList);
    } finally {
      pkcs8.fill(0);
    }
  }

  /** Tells whether `lock()` was called. */
  get locked() {
    return this.#handle === null;
  }

  /** Zeroizes the private key and releases the handle. */
  lock() {
    if (this.#handle !== null) {
      const handle = this.#handle;
      this.#handle = null;
      call(() => handle.lock());
      handle.free();
    }
  }

  /** The wasm handle, for the other wrappers in this module only. */
  get handle() {
    if (this.#handle === null) {
      throw new InternalError('The identity is locked.');
    }
    return this.#handle;
  }
}

/**
 * Unlocks an identity and, when `signKeyPem` is given, its access-event
 * signing key with the same passphrase. Resolves to `{ identity, signer }`
 * (`signer` null without a signing key file). When the signing key fails,
 * the identity is locked again before the error is thrown.
 */
export async function unlockIdentity({ keyPem, signKeyPem = null, passphrase, credential, trustList }) {
  const identity = await Identity.unlock({ keyPem, passphrase, credential, trustList });
  if (!signKeyPem) {
    return { identity, signer: null };
  }
  try {
    return { identity, signer: await EventSigner.unlock({ signKeyPem, passphrase, identity }) };
  } catch (error) {
    identity.lock();
    throw error;
  }
}

/**
 * The reader's access-event signing key, the one the credential names. It
 * lives only inside the module's memory and is zeroized by `lock()`.
 * `reader` is `{ community, organization, person }` of the credential.
 */
export class EventSigner {
  #handle;

  constructor(handle) {
    this.#handle = handle;
  }

  /**
   * Decrypts the signing key file (NAME.sign.key.pem) with the passphrase
   * (WebCrypto) and checks it against the unlocked identity's credential.
   * Resolves to the signer; rejects with PassphraseError or
   * KeyMismatchError.
   */
  static async unlock({ signKeyPem, passphrase, identity }) {
    const pkcs8 = await decryptKeyFile(signKeyPem, passphrase, { signing: true });
    try {
      const signer = new EventSigner(call(() => wasm.EventSigner.unlock(pkcs8, identity.handle)));
      const { community, organization, person } = identity.summary;
      signer.reader = { community, organization, person };
      return signer;
    } finally {
      pkcs8.fill(0);
    }
  }

  /**
   * Signs an access event. `draft` is `{ kind, packageId, decision, reasons,
   * rights, label, originator }`; `chain` is the stored `{ agent, seq,
   * prevHash }` or null. Returns `{ id, kind, event, chain }`, where `event`
   * is the signed JSON and `chain` the state to store with it.
   */
  sign(draft, chain, now = new Date()) {
    if (this.#handle === null) {
      throw new KeyRequiredError('The event signing key is locked: unlock your identity again.');
    }
    return call(() => this.#handle.sign(draft, chain ?? null, now.getTime()));
  }

  /** Zeroizes the signing key and releases the handle. */
  lock() {
    if (this.#handle !== null) {
      const handle = this.#handle;
      this.#handle = null;
      call(() => handle.lock());
      handle.free();
    }
  }
}

/**
 * Parses, verifies and decides on a package. Resolves to an OpenedPackage
 * on Permit; throws KeyRequiredError, KeyMismatchError,
 * MalformedPackageError, IntegrityError, AccessDeniedError (with reasons) or
 * UnsupportedError otherwise.
 *
 * `context` is `{ identity, trustList, stale, lastSeen, highestTrustVersionSeen, now, trustFetched }`;
 * `trustFetched` (a Date) is when the trust list was last fetched online, from
 * which the package's offline lease counts.
 */
export function openPackage(bytes, { identity, trustList, stale, lastSeen = null, highestTrustVersionSeen = null, now = new Date(), trustFetched = null }) {
  if (bytes.byteLength >= STREAM_FROM_BYTES) {
    // Starts the decryption workers now, so they load while this thread opens the package.
    prepareStreamWorker(init.__wbindgen_wasm_module ?? null, bytes.byteLength);
  }
  const parsed = call(() => wasm.Package.parse(bytes));
  try {
    if (!identity || identity.locked) {
      const summary = call(() => parsed.summary());
      throw new KeyRequiredError('Unlock an identity to open this package.', { details: JSON.stringify(summary) });
    }
    const opened = call(() =>
      parsed.open(identity.handle, trustList.handle, {
        nowMs: now.getTime(),
        lastSeenMs: lastSeen ? Date.parse(lastSeen) : undefined,
        stale,
        highestTrustVersionSeen: highestTrustVersionSeen ?? undefined,
        trustFetchedMs: trustFetched ? trustFetched.getTime() : undefined,
      }),
    );
    return new OpenedPackage(opened, bytes);
  } finally {
    parsed.free();
  }
}

/**
 * A package the decision point permitted. `metadata` is
 * `{ packageId, label, rights, watermark, warnings, obligations, provenance,
 *    originator, verified, mediaType, fileName, segmentCount, plaintextSize }`.
 */
export class OpenedPackage {
  #handle;
  #bytes;

  constructor(handle, bytes = null) {
    this.#handle = handle;
    this.#bytes = bytes;
    this.metadata = call(() => handle.metadata());
  }

  /**
   * Decrypts in Web Workers, segment by segment, with WebCrypto's AES-GCM;
   * each segment is released only after its size, segment hash, signed
   * digest and tag verified, and the whole-plaintext digest is checked once
   * all arrived (`stream.done`; call close() only after it settled). The
   * buffer of the package bytes given to openPackage is detached once every
   * segment was handed to a worker, so it is freed early. Resolves to a
   * StreamedPlaintext (www/src/worker/stream.js), or to null where
   * streaming is not possible (no Worker or crypto.subtle, or a package
   * with HMAC segment hashes): the caller then uses decrypt().
   * `plaintextDigest` selects where the whole plaintext is hashed: 'page'
   * (crypto.subtle.digest once every segment is in, the faster here) or
   * 'worker' (the module's SHA-256, in segment order as segments pass,
   * which avoids WebCrypto's copy of the whole plaintext, in a single
   * worker). `workers` (default streamWorkersFor the plaintext size) and
   * `inFlight` (segments each worker requests at once, default
   * SEGMENTS_IN_FLIGHT) tune the page digest path.
   */
  async decryptStream({ inFlight, workers, plaintextDigest = 'page' } = {}) {
    if (typeof Worker === 'undefined' || this.#bytes === null) {
      return null;
    }
    const plan = call(() => this.#handle.streamPlan());
    const keyPromise = plan === null ? null : call(() => this.#handle.segmentKey());
    if (keyPromise === null) {
      return null;
    }
    let key;
    try {
      key = await keyPromise;
    } catch (thrown) {
      throw toValiseError(thrown);
    }
    const handle = this.#handle;
    const onPage = plaintextDigest === 'page';
    // Either the page checks the whole-plaintext digest once every segment
    // is in, or the single worker does before it reports done.
    const verifyPlaintext = onPage
      ? async (plaintext) => {
          const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', plaintext));
          call(() => handle.checkPlaintextDigest(digest));
        }
      : null;
    const stream = startStream({ plan, key, bytes: this.#bytes, verifyPlaintext, module: init.__wbindgen_wasm_module ?? null, inFlight, workers });
    this.#bytes = null;
    stream.done.catch(() => {});
    return stream;
  }

  /**
   * Decrypts the payload. Each segment is released only after its tag and
   * its signed digest verified, and the whole plaintext is checked against
   * the originator's signed digest before anything is returned.
   */
  async decrypt() {
    return call(() => this.#handle.decryptAll());
  }

  /**
   * Returns the package's access-event facts: `{ packageId, label,
   * originator, eventsUrl, eventsRequired }`.
   */
  eventContext() {
    return call(() => this.#handle.eventContext());
  }

  /** Releases the handle and zeroizes the data key it holds. */
  close() {
    this.#handle?.free();
    this.#handle = null;
  }
}

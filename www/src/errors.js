// The closed set of errors the viewer raises. The WebAssembly module throws
// a tagged object `{ kind, message, reasons? }`; `errorFromTagged` is the one
// place that turns it into one of these classes, so the UI can react to each
// class: a missing key asks for an identity, a key that does not fit says so,
// a denial lists its reasons.

/** The base class of every error the viewer raises on purpose. */
export class ValiseError extends Error {
  /**
   * `message` states the problem. `options.nextStep` is what the reader can
   * do next, for an error whose cause calls for a more specific step than
   * its class implies. `message` then ends with that step too, and `problem`
   * contains the problem alone, so a screen can show the two apart.
   */
  constructor(message, options = {}) {
    super(options.nextStep ? `${message} ${options.nextStep}` : message, options.cause ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    /** The problem, without the next step. */
    this.problem = message;
    /** The reader's next step, or null when the error's class implies it. */
    this.nextStep = options.nextStep ?? null;
    /** Technical details for the error panel (never key material or plaintext). */
    this.details = options.details ?? null;
    /** `[{ code, message, nextStep }]` from the decision point, in its order; may be empty. */
    this.reasons = options.reasons ?? [];
    /** On a denial of a verified package: its access-event facts (see OpenedPackage.eventContext). */
    this.event = options.event ?? null;
  }
}

/** The package needs a private key and no identity is unlocked. */
export class KeyRequiredError extends ValiseError {}

/** The unlocked identity is not among the package's recipients. */
export class KeyMismatchError extends ValiseError {}

/** The file is not a well-formed protected package. */
export class MalformedPackageError extends ValiseError {}

/** A signature, binding, tag or digest did not verify: the package was altered. */
export class IntegrityError extends ValiseError {}

/** The decision point denied access; `reasons` lists why. */
export class AccessDeniedError extends ValiseError {}

/** The package or key uses a feature this viewer does not implement. */
export class UnsupportedError extends ValiseError {}

/** The key file needs a passphrase, or the one given is wrong. */
export class PassphraseError extends ValiseError {}

/** A bug: a Rust panic or an unexpected failure. The page shows it with details. */
export class InternalError extends ValiseError {}

const CLASSES = {
  KeyRequired: KeyRequiredError,
  KeyMismatch: KeyMismatchError,
  MalformedPackage: MalformedPackageError,
  Integrity: IntegrityError,
  AccessDenied: AccessDeniedError,
  Unsupported: UnsupportedError,
  Passphrase: PassphraseError,
  Internal: InternalError,
};

/** Builds the error class for a tagged error object thrown by the module. */
export function errorFromTagged(tagged) {
  const Class = CLASSES[tagged.kind];
  if (!Class) {
    return new InternalError(`The viewer returned an unknown error kind: ${String(tagged.kind)}.`, {
      details: JSON.stringify(tagged),
    });
  }
  return new Class(String(tagged.message ?? tagged.kind), { reasons: tagged.reasons ?? [], event: tagged.event ?? null });
}

/** Tells whether a thrown value is a tagged error object from the module. */
export function isTaggedError(value) {
  return value !== null && typeof value === 'object' && typeof value.kind === 'string' && 'message' in value;
}

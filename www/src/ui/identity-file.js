// Reading the files of an identity (key file, signing key file, credential)
// that the reader chooses, with a size check before anything is read.

/**
 * Maximum size of an identity file in bytes: the core's limit for a key
 * file (MAX_KEY_FILE_LEN) and for a credential (MAX_CREDENTIAL_BYTES),
 * both 64 KiB.
 */
export const MAX_IDENTITY_FILE_BYTES = 64 * 1024;

/**
 * Reads a chosen identity file as text. Rejects a file larger than
 * MAX_IDENTITY_FILE_BYTES before reading any of it, naming the file and
 * the limit. `fieldLabel` names the form field, such as "key file".
 */
export async function readIdentityFile(file, fieldLabel) {
  if (file.size > MAX_IDENTITY_FILE_BYTES) {
    throw new Error(
      `The ${fieldLabel} "${file.name}" is too large: ${file.size} bytes, over the limit of ${MAX_IDENTITY_FILE_BYTES / 1024} KiB (${MAX_IDENTITY_FILE_BYTES} bytes). Choose the ${fieldLabel} your organization issued to you.`,
    );
  }
  return file.text();
}

/** The suffix of the access-event signing key file, `NAME.sign.key.pem`. */
const SIGNING_KEY_SUFFIX = '.sign.key.pem';

/**
 * Checks that the files chosen for the key file and the credential are of
 * the right kind, before the passphrase is tried, so a swapped file is named
 * for what it is. A credential is a compact JWS, never a PEM file, and a key
 * file named NAME.sign.key.pem is the signing key. Throws a sentence that
 * names the expected files.
 */
export function checkIdentityFiles({ keyFileName, credential }) {
  if (credential.trimStart().startsWith('-----BEGIN')) {
    throw new Error(
      'The file chosen as the credential is a PEM key file, not a credential. Choose NAME.credential.jws as the credential, and NAME.key.pem as the key file.',
    );
  }
  if (keyFileName?.endsWith(SIGNING_KEY_SUFFIX)) {
    throw new Error(
      `The file chosen as the key file, "${keyFileName}", is the signing key for access events. Choose NAME.key.pem as the key file, and NAME.sign.key.pem as the signing key file.`,
    );
  }
}

/**
 * Returns the sentence shown when an identity does not unlock: the error's
 * message, followed by the next step of each of its reasons (a credential
 * that does not verify carries one).
 */
export function unlockFailureText(failure) {
  const message = failure?.message ?? String(failure);
  const nextSteps = (failure?.reasons ?? []).map((reason) => reason.nextStep).filter(Boolean);
  return [message, ...nextSteps].join(' ');
}

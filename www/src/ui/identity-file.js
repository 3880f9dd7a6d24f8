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

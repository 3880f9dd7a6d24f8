// The identity screen: import a key file and its credential, unlock with the
// passphrase, and pick a remembered identity. Remembered identities are kept
// only in their passphrase-encrypted form.
import { isolate } from '../bidi.js';
import { h, replaceChildren } from './dom.js';
import { checkIdentityFiles, readIdentityFile, unlockFailureText } from './identity-file.js';

/**
 * Draws the identity screen.
 * - `remembered`: stored identities `{ id, name, organization }`;
 * - `pendingName`: the package waiting for an identity, if any;
 * - `onUnlock({ keyPem, credential, passphrase, remember, storedId })`:
 *   resolves on success, rejects with an error whose message is shown;
 * - `onForget(id)`, `onCancel()`.
 */
export function drawIdentityScreen({ remembered, pendingName, onUnlock, onForget, onCancel }) {
  const section = document.getElementById('screen-identity');
  const children = [
    h('h2', { id: 'identity-heading' }, 'Your identity'),
    pendingName ? h('p', { className: 'notice' }, 'Unlock an identity to open ', isolate(pendingName), '.') : null,
  ];
  if (remembered.length > 0) {
    children.push(h('h3', {}, 'Remembered on this device'), rememberedList(remembered, onUnlock, onForget));
  }
  children.push(h('h3', {}, 'Import a key file'), importForm(onUnlock));
  if (onCancel) {
    children.push(h('div', { className: 'form-actions' }, h('button', { type: 'button', className: 'secondary', onClick: onCancel }, 'Back')));
  }
  replaceChildren(section, ...children);
}

function rememberedList(remembered, onUnlock, onForget) {
  return h(
    'ul',
    { className: 'remembered' },
    remembered.map((identity) => {
      const fieldId = `passphrase-${identity.id}`;
      const error = h('p', { className: 'form-error', role: 'alert' });
      const passphrase = h('input', { type: 'password', id: fieldId, autocomplete: 'current-password', required: true });
      const form = h(
        'form',
        {
          className: 'unlock-remembered',
          'data-identity': identity.id,
          onSubmit: (event) => {
            event.preventDefault();
            submit(form, error, () => onUnlock({ storedId: identity.id, passphrase: passphrase.value }));
            passphrase.value = '';
          },
        },
        h('strong', {}, isolate(identity.name), ' (', isolate(identity.organization), ')'),
        h('label', { for: fieldId }, 'Passphrase for ', isolate(identity.name)),
        passphrase,
        h(
          'div',
          { className: 'form-actions' },
          h('button', { type: 'submit' }, 'Unlock'),
          h('button', { type: 'button', className: 'secondary', onClick: () => onForget(identity.id) }, 'Forget ', isolate(identity.name)),
        ),
        error,
      );
      return h('li', {}, form);
    }),
  );
}

function importForm(onUnlock) {
  const keyFile = h('input', { type: 'file', id: 'key-file', accept: '.pem,application/x-pem-file', required: true, 'aria-describedby': 'key-file-hint' });
  const signKeyFile = h('input', { type: 'file', id: 'sign-key-file', accept: '.pem,application/x-pem-file', 'aria-describedby': 'sign-key-file-hint' });
  const credentialFile = h('input', { type: 'file', id: 'credential-file', accept: '.jws,.jwt,.txt,.json', required: true, 'aria-describedby': 'credential-file-hint' });
  const passphrase = h('input', { type: 'password', id: 'passphrase', autocomplete: 'current-password', required: true });
  // Remembering writes the encrypted key to IndexedDB, so it stays an explicit choice.
  const remember = h('input', { type: 'checkbox', id: 'remember', checked: false });
  const error = h('p', { className: 'form-error', role: 'alert' });
  const form = h(
    'form',
    {
      id: 'import-identity',
      onSubmit: (event) => {
        event.preventDefault();
        submit(form, error, async () => {
          const [keyPem, credential] = await Promise.all([textOf(keyFile, 'key file'), textOf(credentialFile, 'credential')]);
          checkIdentityFiles({ keyFileName: keyFile.files[0].name, credential });
          const signKeyPem = signKeyFile.files?.[0] ? await readIdentityFile(signKeyFile.files[0], 'signing key file') : null;
          await onUnlock({ keyPem, signKeyPem, credential, passphrase: passphrase.value, remember: remember.checked });
          passphrase.value = '';
        });
      },
    },
    h('label', { for: 'key-file' }, 'Key file (encrypted PEM)'),
    keyFile,
    h('p', { className: 'hint', id: 'key-file-hint' }, 'The NAME.key.pem file your organization issued to you.'),
    h('label', { for: 'sign-key-file' }, 'Signing key file (encrypted PEM, optional)'),
    signKeyFile,
    h('p', { className: 'hint', id: 'sign-key-file-hint' }, 'NAME.sign.key.pem signs the access events sent to originators. Without it, packages whose rights require access events do not open.'),
    h('label', { for: 'credential-file' }, 'Credential'),
    credentialFile,
    h('p', { className: 'hint', id: 'credential-file-hint' }, 'The credential your organization signed for you (NAME.credential.jws).'),
    h('label', { for: 'passphrase' }, 'Passphrase'),
    passphrase,
    h('label', { className: 'checkbox', for: 'remember' }, remember, ' Remember this identity on this device (stored encrypted)'),
    h('div', { className: 'form-actions' }, h('button', { type: 'submit' }, 'Unlock')),
    error,
  );
  return form;
}

async function textOf(input, what) {
  const file = input.files?.[0];
  if (!file) {
    throw new Error(`Choose the ${what} first.`);
  }
  return readIdentityFile(file, what);
}

async function submit(form, error, action) {
  const buttons = form.querySelectorAll('button');
  buttons.forEach((button) => { button.disabled = true; });
  error.textContent = '';
  try {
    await action();
  } catch (failure) {
    error.textContent = unlockFailureText(failure);
  } finally {
    buttons.forEach((button) => { button.disabled = false; });
  }
}

/** Draws the identity status in the page header. */
export function drawIdentityStatus({ summary, onLock, onChoose }) {
  const status = document.getElementById('identity-status');
  if (summary) {
    replaceChildren(
      status,
      h('span', { id: 'identity-name' }, 'Unlocked: ', isolate(summary.name), ' (', isolate(summary.organization), ') '),
      h('button', { type: 'button', className: 'secondary', id: 'lock-identity', onClick: onLock }, 'Lock'),
    );
  } else {
    replaceChildren(
      status,
      h('span', {}, 'No identity unlocked '),
      h('button', { type: 'button', className: 'secondary', id: 'choose-identity', onClick: onChoose }, 'Unlock an identity'),
    );
  }
}

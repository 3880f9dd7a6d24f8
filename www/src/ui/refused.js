// The refused screen: why the package did not open, each reason as a
// sentence with its next step. Nothing of the package is shown here.
import {
  AccessDeniedError,
  IntegrityError,
  KeyMismatchError,
  MalformedPackageError,
  UnsupportedError,
} from '../errors.js';
import { isolate } from '../bidi.js';
import { h, replaceChildren } from './dom.js';

/** Title and next step per error class, for errors that carry no reasons. */
const OUTCOMES = [
  [AccessDeniedError, 'You may not open this package', 'See each reason below for what to do.'],
  [KeyMismatchError, 'This package was not sealed for your identity', 'Unlock the identity the package was sent to, or ask the originator to seal it for you.'],
  [IntegrityError, 'This package was altered or damaged', 'Do not trust its content. Ask the originator to send it again, and tell your security team.'],
  [MalformedPackageError, 'This file is not a valid protected package', 'Check that you chose the right file, or ask the sender for it again.'],
  [UnsupportedError, 'This package uses a feature the viewer does not support', 'Ask the originator to seal it again with the community profile.'],
];

/** Draws the refused screen for an error raised while opening `fileName`. */
export function drawRefusedScreen({ error, fileName, onOpenAnother, onChangeIdentity }) {
  const section = document.getElementById('screen-refused');
  const [, title, nextStep] = OUTCOMES.find(([Class]) => error instanceof Class) ?? [null, 'This package could not be opened', 'Try again, or ask the originator for help.'];
  const reasons = error.reasons?.length > 0 ? error.reasons : null;

  replaceChildren(
    section,
    h('h2', { id: 'refused-heading' }, title),
    fileName ? h('p', { className: 'hint' }, 'File: ', isolate(fileName)) : null,
    h(
      'div',
      { className: 'refusal', 'data-error': error.name },
      reasons
        ? h(
            'ul',
            { className: 'reasons' },
            reasons.map((reason) =>
              h(
                'li',
                { 'data-code': reason.code },
                // Reasons quote names from the package and the trust list.
                h('span', { className: 'reason-message' }, isolate(reason.message)),
                h('span', { className: 'next-step' }, 'Next step: ', isolate(reason.nextStep)),
                h('span', { className: 'reason-code' }, `(${reason.code})`),
              ),
            ),
          )
        : [
            h('p', { className: 'reason-message' }, isolate(error.nextStep ? error.problem : error.message)),
            h('p', { className: 'next-step' }, `Next step: ${error.nextStep ?? nextStep}`),
          ],
    ),
    h(
      'div',
      { className: 'form-actions' },
      h('button', { type: 'button', onClick: onOpenAnother }, 'Open another package'),
      h('button', { type: 'button', className: 'secondary', onClick: onChangeIdentity }, 'Use another identity'),
    ),
  );
}

// The portal shows bidi controls and the other invisible (default
// ignorable) characters of untrusted names as visible tokens.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { revealBidi, revealBidiControls } from '../../www/src/bidi.js';

test('revealBidi shows zero-width characters', () => {
  const cases = [
    ['alice\u200B', 'alice⟨U+200B⟩'],
    ['a\u200Cb\u200Dc', 'a⟨U+200C⟩b⟨U+200D⟩c'],
    ['\u2060word\uFEFF', '⟨U+2060⟩word⟨U+FEFF⟩'],
    ['soft\u00ADhyphen', 'soft⟨U+00AD⟩hyphen'],
    ['tag\u{E0041}', 'tag⟨U+E0041⟩'],
    ['shorthand\u{1BCA0}', 'shorthand⟨U+1BCA0⟩'],
    ['report\u202Efdp.exe', 'report⟨U+202E⟩fdp.exe'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(revealBidi(input), expected, JSON.stringify(input));
  }
});

test('revealBidi keeps ordinary text', () => {
  for (const text of ['Énergie ISAC', 'شبكة', 'Grid 😀', '']) {
    assert.equal(revealBidi(text), text);
  }
  assert.equal(revealBidi(null), null);
});

test('document content keeps joiners but shows bidi controls', () => {
  // A Persian word with a zero-width non-joiner and an emoji sequence with
  // zero-width joiners read as written; an override still shows.
  for (const text of ['می\u200Cخواهم', 'family 👩\u200D👩\u200D👧']) {
    assert.equal(revealBidiControls(text), text);
  }
  assert.equal(revealBidiControls('evil\u202Etxt.exe'), 'evil⟨U+202E⟩txt.exe');
  assert.equal(revealBidiControls(null), null);
});

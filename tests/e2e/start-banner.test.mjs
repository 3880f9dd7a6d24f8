// What `npm start` prints about the demo identities: the signing key file is
// named as needed for the packages that require access events, not as
// optional.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startBanner } from '../../scripts/lib/start-banner.mjs';
import { demoCommunity } from './lib/demo.mjs';

/** Builds the banner for the demo community, as `npm start` does with a collector. */
function banner() {
  const { dir, manifest } = demoCommunity();
  return startBanner({
    demo: { ...manifest, eventsUrl: 'http://127.0.0.1:8787/events' },
    demoDir: dir,
    cli: 'target/release/valise',
    portal: { url: 'http://127.0.0.1:8080/' },
    collector: { eventsUrl: 'http://127.0.0.1:8787/events' },
    eventsDb: `${dir}/events.db`,
    portalOrigin: 'http://127.0.0.1:8080',
  });
}

test('start banner requires the signing key', () => {
  const line = banner().find((text) => text.includes('NAME.sign.key.pem'));
  assert.ok(line, 'the banner names the signing key file');
  assert.doesNotMatch(line, /optional/);
  assert.match(line, /misp-event\.tdf/, 'the line names the package that requires access events');
  assert.match(line, /do not open without it/);
});

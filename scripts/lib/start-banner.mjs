// The text `npm start` prints once the portal and the collector run: the
// portal URL, the demo identity files, the demo packages and how to list the
// access events the collector stored.
import { join, relative } from 'node:path';
import { ROOT } from './setup.mjs';

/**
 * Returns the lines of the start banner. `demo` is the manifest of
 * `buildDemo`, `cli` the path of the `valise` binary, `portalOrigin` the
 * origin allowed to frame the portal (null when the example intranet page
 * is not offered).
 */
export function startBanner({ demo, demoDir, cli, portal, collector, eventsDb, portalOrigin }) {
  // The signing key is needed wherever a package requires access events,
  // which needs a collector named in the package.
  const requiring = demo.eventsUrl ? demo.packages.filter((pkg) => pkg.eventsRequired).map((pkg) => pkg.file) : [];
  const signingKey = requiring.length > 0
    ? `  signing key for access events: identities/NAME.sign.key.pem in the same folder. Import it too: packages that require access events (${requiring.join(', ')}) do not open without it.`
    : '  signing key for access events: identities/NAME.sign.key.pem in the same folder. Without it the portal opens packages but does not report access events.';
  return [
    '',
    `Valise portal: ${portal.url}`,
    '',
    'Demo identities (import the key file, the credential and the signing key, then unlock):',
    ...demo.people.map((person) => `  ${person.name.padEnd(12)} ${relative(ROOT, join(demoDir, person.keyFile))}  ${relative(ROOT, join(demoDir, person.credentialFile))}`),
    signingKey,
    `  passphrase of every demo key: ${demo.passphrase}`,
    '',
    'Demo packages (open them from the portal, or with ?src=):',
    ...demo.packages.map((pkg) => `  ${portal.url}?src=demo/${pkg.path}  ${pkg.label}  ${pkg.document}`),
    '',
    `Access events go to the collector at ${collector.eventsUrl} (SQLite: ${relative(ROOT, eventsDb)}).`,
    `Open the portal at ${portal.url} exactly: the collector accepts only that origin.`,
    'List what arrived:',
    `  ${relative(ROOT, cli)} events report --db sqlite:${relative(ROOT, eventsDb)}`,
    '',
    ...(portalOrigin
      ? ['Example intranet page, which frames the portal:', `  ${portal.url}examples/intranet.html?portal=${portal.url}&package=../demo/packages/advisory.tdf`, '']
      : []),
    'Press Ctrl+C to stop.',
  ];
}

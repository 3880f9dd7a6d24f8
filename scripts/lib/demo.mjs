// The demo community that `npm start` serves and the browser tests open:
// a root, two member organizations, three people with different attributes,
// and packages sealed from real documents with different labels and rights.
// Everything is made with the `valise` CLI, as an operator would.
//
// `DEMO_PACKAGES[].expect` is the outcome the decision point must give each
// person: "permit", or the reason code of the denial.
import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';
import { contentSecurityPolicy, serveStatic } from './serve.mjs';

/** The passphrase of every demo key file. Demo only: real keys need their own. */
export const DEMO_PASSPHRASE = 'demo-passphrase-not-secret';

/** Folder of the demo documents and their provenance notes. */
export const DOCUMENTS = join(ROOT, 'scripts', 'demo', 'documents');

export const COMMUNITY = { name: 'Demo ISAC', id: 'https://demo-isac.invalid' };

/** The organization that seals every demo package, and the author it records. */
export const ORIGINATOR = { org: 'alpha-cert', author: 'Alice Adler' };

/** Attribute definitions: the FQN of a value is `COMMUNITY/attr/NAME/value/VALUE`. */
export const ATTRIBUTES = [
  { name: 'role', rule: 'any-of', values: ['analyst', 'manager'] },
  { name: 'clearance', rule: 'hierarchy', values: ['high', 'medium', 'low'] },
];

export const ORGANIZATIONS = [
  { id: 'alpha-cert', name: 'Alpha CERT', sector: 'government', country: 'DE', labelMaps: ['ALPHA:Internal=AMBER'] },
  { id: 'beta-bank', name: 'Beta Bank', sector: 'finance', country: 'FR', labelMaps: [] },
];

export const PEOPLE = [
  { id: 'alice', name: 'Alice Adler', org: 'alpha-cert', attributes: { role: 'analyst', clearance: 'high' } },
  { id: 'bob', name: 'Bob Berger', org: 'alpha-cert', attributes: { role: 'manager', clearance: 'low' } },
  { id: 'carol', name: 'Carol Colin', org: 'beta-bank', attributes: { role: 'analyst', clearance: 'medium' } },
];

/**
 * The demo packages. `to` names the people whose keys can open the package;
 * `expect` is the decision for each person: "permit" or the reason code.
 */
export const DEMO_PACKAGES = [
  {
    file: 'wiper-alert.tdf',
    document: 'TA14-353A_wiper.pdf',
    mediaType: 'application/pdf',
    label: 'TLP:AMBER',
    to: ['alice', 'bob', 'carol'],
    deny: ['copy', 'export'],
    watermark: true,
    expect: { alice: 'permit', bob: 'permit', carol: 'permit' },
  },
  {
    file: 'apt1-stix.tdf',
    document: 'stix-apt1.json',
    mediaType: 'application/stix+json',
    label: 'TLP:GREEN',
    to: ['alice', 'bob', 'carol'],
    deny: [],
    watermark: false,
    expect: { alice: 'permit', bob: 'permit', carol: 'permit' },
  },
  {
    file: 'misp-event.tdf',
    document: 'misp-event.json',
    mediaType: 'application/vnd.misp+json',
    label: 'TLP:RED',
    to: ['alice'],
    deny: [],
    watermark: true,
    // With an events URL: the document opens only once its access event is queued.
    eventsRequired: true,
    expect: { alice: 'permit', bob: 'not_recipient', carol: 'not_recipient' },
  },
  {
    file: 'indicators.tdf',
    document: 'volexity-3cx-iocs.csv',
    mediaType: 'text/csv',
    label: 'TLP:AMBER+STRICT',
    to: ['alice', 'bob'],
    deny: ['export'],
    watermark: true,
    expect: { alice: 'permit', bob: 'permit', carol: 'not_recipient' },
  },
  {
    file: 'advisory.tdf',
    document: 'advisory.md',
    mediaType: 'text/markdown',
    label: 'TLP:AMBER',
    to: ['alice', 'bob', 'carol'],
    deny: ['print'],
    watermark: false,
    expect: { alice: 'permit', bob: 'permit', carol: 'permit' },
  },
  {
    file: 'advisory-expired.tdf',
    document: 'advisory.md',
    mediaType: 'text/markdown',
    label: 'TLP:GREEN',
    to: ['alice', 'bob', 'carol'],
    deny: [],
    watermark: false,
    notAfter: '2026-01-01T00:00:00Z',
    expect: { alice: 'expired', bob: 'expired', carol: 'expired' },
  },
];

/**
 * Demo packages sealed through the trust list for an attribute-defined
 * audience. `attributes` maps attribute names to the value a reader must
 * hold. `toOrgs` adds the organizations' key access keys, for readers who open
 * with the organization's key (the CLI's `--key ORG.key.pem`). `marking` is
 * the originator's own marking, which must be in its label mapping.
 */
export const ATTRIBUTE_PACKAGES = [
  {
    file: 'advisory-clearance.tdf',
    document: 'advisory.md',
    mediaType: 'text/markdown',
    label: 'TLP:AMBER',
    marking: 'ALPHA:Internal',
    attributes: { clearance: 'medium' },
    to: ['alice', 'bob', 'carol'],
    toOrgs: ['alpha-cert', 'beta-bank'],
    deny: ['export'],
    watermark: true,
    expect: { alice: 'permit', bob: 'attribute_missing', carol: 'permit' },
  },
];

/** Returns the FQN of an attribute value in the demo community. */
export function attributeFqn(name, value) {
  return `${COMMUNITY.id}/attr/${name}/value/${value}`;
}

/** Runs the CLI with the demo passphrase in its environment; throws with its stderr on failure. */
function valise(cli, args, cwd) {
  const result = spawnSync(cli, args, {
    cwd,
    encoding: 'utf8',
    // The CLI remembers per community the highest trust list version seen.
    // Every demo re-creates the same community id from version 1, so each
    // demo keeps that state in its own folder, away from the user's.
    env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE, VALISE_HOME: join(cwd, '.valise-home') },
  });
  if (result.error || result.status !== 0) {
    throw new Error(`valise ${args.join(' ')} failed (status ${result.status}):\n${result.stderr ?? result.error?.message}`);
  }
  return result.stdout;
}

/** Returns the path of the valise binary built by cargo (`release` or `debug`). */
export function cliPath(profile) {
  const path = join(ROOT, 'target', profile, 'valise');
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: build it with cargo build -p valise${profile === 'release' ? ' --release' : ''}`);
  }
  return path;
}

/**
 * Reads the key access public key a credential names (a JWK in its signed
 * payload), writes it as SPKI PEM to `outPath`, and returns `{ kid, path }`.
 */
function credentialKeyAccessKey(credentialPath, outPath) {
  const token = readFileSync(credentialPath, 'utf8').trim();
  const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  const jwk = payload.keyAccessKey;
  const pem = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' }).export({
    type: 'spki',
    format: 'pem',
  });
  writeFileSync(outPath, pem);
  return { kid: jwk.kid, path: outPath };
}

/** Creates the community: root key, trust list, attributes and member organizations. */
function createCommunity(cli, outDir, community) {
  const created = valise(cli, ['community', 'init', '--name', COMMUNITY.name, '--id', COMMUNITY.id, '--out', community], outDir);
  const fingerprint = created.match(/fingerprint \(RFC 7638\): (\S+)/)?.[1];
  if (!fingerprint) {
    throw new Error(`valise community init printed no root key fingerprint:\n${created}`);
  }
  const trust = join(community, 'trust.json');
  const rootKey = join(community, 'root.key.pem');
  for (const attribute of ATTRIBUTES) {
    valise(cli, ['attribute', 'add', '--trust', trust, '--root-key', rootKey, '--name', attribute.name, '--rule', attribute.rule, '--values', attribute.values.join(',')], outDir);
  }
  // Every organization may grant every value; each person's credential
  // carries only their own.
  const grantable = ATTRIBUTES.flatMap((attribute) => attribute.values.flatMap((value) => ['--attr', attributeFqn(attribute.name, value)]));
  for (const org of ORGANIZATIONS) {
    const labelMaps = org.labelMaps.flatMap((map) => ['--label-map', map]);
    valise(cli, ['member', 'add', '--trust', trust, '--root-key', rootKey, '--org', org.id, '--name', org.name, '--sector', org.sector, '--country', org.country, ...grantable, ...labelMaps], outDir);
  }
  return { trust, fingerprint };
}

/** Issues each person's keys and credential; returns their key access keys by person id. */
function issueCredentials(cli, outDir, { community, identities, trust, fingerprint }) {
  const recipients = {};
  for (const person of PEOPLE) {
    const attrs = Object.entries(person.attributes).flatMap(([name, value]) => ['--attr', attributeFqn(name, value)]);
    const prefix = join(identities, person.id);
    valise(cli, ['credential', 'issue', '--trust', trust, '--org-key', join(community, `${person.org}.sign.key.pem`), '--person', person.id, '--name', person.name, ...attrs, '--valid-for', '365', `--root-fingerprint=${fingerprint}`, '--out', prefix], outDir);
    recipients[person.id] = credentialKeyAccessKey(`${prefix}.credential.jws`, `${prefix}.pub.pem`);
  }
  return recipients;
}

/**
 * Seals each demo package, signed by the originator organization. With
 * `eventsUrl`, every package names that access-event collector.
 */
function sealPackages(cli, outDir, { community, packages, recipients, eventsUrl }) {
  // These packages are sealed to the people's own key access keys and
  // require no attribute; `sealAttributePackages` seals the others through
  // the trust list.
  for (const pkg of DEMO_PACKAGES) {
    const args = [
      'seal', join(DOCUMENTS, pkg.document),
      '--sign-key', join(community, `${ORIGINATOR.org}.sign.key.pem`),
      '--org', ORIGINATOR.org,
      '--author', ORIGINATOR.author,
      '--community', COMMUNITY.id,
      '--label', pkg.label,
      '--media-type', pkg.mediaType,
      '-o', join(packages, pkg.file),
    ];
    for (const person of pkg.to) {
      // One argument, because a key id may start with "-".
      args.push(`--to=${recipients[person].kid}=${recipients[person].path}`);
    }
    if (pkg.deny.length > 0) {
      args.push('--deny', pkg.deny.join(','));
    }
    if (pkg.watermark) {
      args.push('--watermark');
    }
    if (pkg.notAfter) {
      args.push('--not-after', pkg.notAfter);
    }
    if (eventsUrl) {
      args.push('--events-url', eventsUrl, ...(pkg.eventsRequired ? ['--events-required'] : []));
    }
    valise(cli, args, outDir);
  }
}

/**
 * Seals each attribute package through the trust list: the originator, the
 * community, the attribute values and the marking are resolved and checked
 * against it. The people's credentials name their key access keys, so each
 * person can open the package in the browser with their own identity, and
 * the decision point then judges their attributes.
 */
function sealAttributePackages(cli, outDir, { community, identities, packages, trust, fingerprint, eventsUrl }) {
  for (const pkg of ATTRIBUTE_PACKAGES) {
    const args = [
      'seal', join(DOCUMENTS, pkg.document),
      '--trust', trust,
      `--root-fingerprint=${fingerprint}`,
      '--sign-key', join(community, `${ORIGINATOR.org}.sign.key.pem`),
      '--author', ORIGINATOR.author,
      '--label', pkg.label,
      '--marking', pkg.marking,
      '--media-type', pkg.mediaType,
      '-o', join(packages, pkg.file),
    ];
    for (const [name, value] of Object.entries(pkg.attributes)) {
      args.push('--attr', attributeFqn(name, value));
    }
    for (const person of pkg.to) {
      args.push('--to-person', join(identities, `${person}.credential.jws`));
    }
    for (const org of pkg.toOrgs) {
      args.push('--to-org', org);
    }
    if (pkg.deny.length > 0) {
      args.push('--deny', pkg.deny.join(','));
    }
    if (pkg.watermark) {
      args.push('--watermark');
    }
    if (eventsUrl) {
      args.push('--events-url', eventsUrl, ...(pkg.eventsRequired ? ['--events-required'] : []));
    }
    valise(cli, args, outDir);
  }
}

/**
 * Writes `index.json`, the list of demo packages the portal's open screen
 * shows: file, path, label, marking and document name. The portal shows the
 * list only when this file is served at `demo/index.json`.
 */
function writeDemoIndex(outDir, packages) {
  const index = {
    packages: packages.map((pkg) => ({
      file: pkg.file,
      path: pkg.path,
      label: pkg.label,
      marking: pkg.marking ?? null,
      title: pkg.file,
      summary: pkg.document,
    })),
  };
  writeFileSync(join(outDir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
}

/**
 * Builds the demo community into `outDir`:
 * - `community/`: trust list, root key, organization keys;
 * - `identities/NAME.key.pem`, `NAME.credential.jws` (and `NAME.pub.pem`);
 * - `packages/*.tdf`;
 * - `config.json`: the portal configuration pinning the root key;
 * - `demo.json`: people, packages and expected outcomes;
 * - `index.json`: the package list the portal shows at `demo/index.json`.
 * With `eventsUrl` (a collector's `POST /events` URL), the packages name it
 * and config.json lists its origin in `events.collectorOrigins`. With
 * `portalOrigin` (the origin the demo portal is served at), config.json
 * lists it in `embed.allowedOrigins`, so the example intranet page that the
 * same server serves (`examples/intranet.html`) may frame `frame.html`.
 * Returns the parsed `demo.json`.
 */
export function buildDemo(outDir, { cli, eventsUrl = null, portalOrigin = null }) {
  const community = join(outDir, 'community');
  const identities = join(outDir, 'identities');
  const packages = join(outDir, 'packages');
  for (const folder of [identities, packages]) {
    mkdirSync(folder, { recursive: true });
  }

  const { trust, fingerprint } = createCommunity(cli, outDir, community);
  const recipients = issueCredentials(cli, outDir, { community, identities, trust, fingerprint });
  sealPackages(cli, outDir, { community, packages, recipients, eventsUrl });
  sealAttributePackages(cli, outDir, { community, identities, packages, trust, fingerprint, eventsUrl });

  const config = JSON.parse(readFileSync(join(ROOT, 'www', 'config.json'), 'utf8'));
  config.communityName = COMMUNITY.name;
  config.rootKeyFingerprints = [fingerprint];
  config.trustListUrl = 'trust-list.jws';
  if (eventsUrl) {
    config.events = { ...config.events, collectorOrigins: [new URL(eventsUrl).origin] };
  }
  if (portalOrigin) {
    config.embed = { ...config.embed, allowedOrigins: [new URL(portalOrigin).origin] };
  }
  writeFileSync(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  cpSync(join(DOCUMENTS, 'PROVENANCE.md'), join(outDir, 'PROVENANCE.md'));

  const manifest = {
    passphrase: DEMO_PASSPHRASE,
    rootFingerprint: fingerprint,
    people: PEOPLE.map((person) => ({
      ...person,
      keyFile: `identities/${person.id}.key.pem`,
      credentialFile: `identities/${person.id}.credential.jws`,
      signKeyFile: `identities/${person.id}.sign.key.pem`,
    })),
    packages: [...DEMO_PACKAGES, ...ATTRIBUTE_PACKAGES].map((pkg) => ({ ...pkg, path: `packages/${pkg.file}` })),
    eventsUrl,
  };
  writeFileSync(join(outDir, 'demo.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeDemoIndex(outDir, manifest.packages);
  return manifest;
}

/**
 * URL prefixes the portal server mounts for a demo folder: the packages and
 * the people's identity files, never the community's root or organization keys.
 */
export function demoMounts(outDir) {
  return {
    '/demo/packages/': join(outDir, 'packages'),
    '/demo/identities/': join(outDir, 'identities'),
  };
}

/** Single files of a demo folder that replace the portal's own. */
export function demoFiles(outDir) {
  return {
    '/config.json': join(outDir, 'config.json'),
    '/trust-list.jws': join(outDir, 'community', 'trust.json'),
    '/demo/index.json': join(outDir, 'index.json'),
  };
}

/**
 * Serves the portal (www/) with a demo folder on 127.0.0.1:`port`, as
 * `npm start` does. The origins allowed to frame the portal
 * (`frame-ancestors`) and the collector origins (`connect-src`) come from
 * the demo's config.json. Resolves to serveStatic's `{ server, url, close() }`.
 */
export function serveDemoPortal(outDir, { port }) {
  const www = join(ROOT, 'www');
  const served = JSON.parse(readFileSync(demoFiles(outDir)['/config.json'], 'utf8'));
  return serveStatic({
    mounts: { '/': www, ...demoMounts(outDir) },
    files: demoFiles(outDir),
    port,
    csp: contentSecurityPolicy(join(www, 'index.html')),
    frameAncestors: served.embed?.allowedOrigins ?? [],
    connectSources: served.events?.collectorOrigins ?? [],
  });
}

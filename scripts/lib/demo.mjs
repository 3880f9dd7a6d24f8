// The demo community that `npm start` serves and the browser tests open:
// a root, two member organizations, three people with different attributes,
// and packages sealed from real documents with different labels and rights.
// Everything is made with the `valise` CLI, as an operator would.
//
// `DEMO_PACKAGES[].expect` is the outcome the decision point must give each
// person: "permit", or the reason code of the denial.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './setup.mjs';

/** The passphrase of every demo key file. Demo only: real keys need their own. */
export const DEMO_PASSPHRASE = 'demo-passphrase-not-secret';

/** Where the demo documents and their provenance notes are. */
export const DOCUMENTS = join(ROOT, 'scripts', 'demo', 'documents');

export const COMMUNITY = { name: 'Demo ISAC', host: 'demo-isac.example' };

export const ORGANIZATIONS = [
  { id: 'alpha-cert', name: 'Alpha CERT', sector: 'government', country: 'DE' },
  { id: 'beta-bank', name: 'Beta Bank', sector: 'finance', country: 'FR' },
];

/** Attribute definitions: the FQN of a value is `https://HOST/attr/NAME/value/VALUE`. */
export const ATTRIBUTES = [
  { name: 'role', rule: 'any-of', values: ['analyst', 'manager'] },
  { name: 'clearance', rule: 'hierarchy', values: ['high', 'medium', 'low'] },
];

export const PEOPLE = [
  { id: 'alice', name: 'Alice Adler', org: 'alpha-cert', attributes: { role: 'analyst', clearance: 'high' } },
  { id: 'bob', name: 'Bob Berger', org: 'alpha-cert', attributes: { role: 'manager', clearance: 'low' } },
  { id: 'carol', name: 'Carol Colin', org: 'beta-bank', attributes: { role: 'analyst', clearance: 'medium' } },
];

export const DEMO_PACKAGES = [
  {
    file: 'wiper-alert.tdf',
    document: 'TA14-353A_wiper.pdf',
    mediaType: 'application/pdf',
    label: 'TLP:AMBER',
    toOrgs: ['alpha-cert', 'beta-bank'],
    deny: ['copy', 'export'],
    expect: { alice: 'permit', bob: 'permit', carol: 'permit' },
  },
  {
    file: 'apt1-stix.tdf',
    document: 'stix-apt1.json',
    mediaType: 'application/stix+json',
    label: 'TLP:GREEN',
    toOrgs: ['alpha-cert', 'beta-bank'],
    deny: [],
    expect: { alice: 'permit', bob: 'permit', carol: 'permit' },
  },
  {
    file: 'misp-event.tdf',
    document: 'misp-event.json',
    mediaType: 'application/vnd.misp+json',
    label: 'TLP:RED',
    toPeople: ['alice'],
    deny: [],
    expect: { alice: 'permit', bob: 'not_recipient', carol: 'not_recipient' },
  },
  {
    file: 'indicators.tdf',
    document: 'volexity-3cx-iocs.csv',
    mediaType: 'text/csv',
    label: 'TLP:AMBER+STRICT',
    toOrgs: ['alpha-cert', 'beta-bank'],
    requireAttributes: [['clearance', 'medium']],
    deny: ['export'],
    expect: { alice: 'permit', bob: 'attribute_missing', carol: 'permit' },
  },
  {
    file: 'advisory.tdf',
    document: 'advisory.md',
    mediaType: 'text/markdown',
    label: 'TLP:AMBER',
    marking: 'ALPHA:Internal',
    toOrgs: ['alpha-cert'],
    deny: ['print'],
    expect: { alice: 'permit', bob: 'permit', carol: 'not_recipient' },
  },
];

/** Returns the FQN of an attribute value in the demo community. */
export function attributeFqn(name, value) {
  return `https://${COMMUNITY.host}/attr/${name}/value/${value}`;
}

/** Runs the CLI with the demo passphrase in its environment; throws with its stderr on failure. */
function valise(cli, args, cwd) {
  const result = spawnSync(cli, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, VALISE_PASSPHRASE: DEMO_PASSPHRASE },
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
 * Builds the demo community into `outDir`:
 * - `community/`: trust list and root key;
 * - `identities/NAME.key.pem`, `identities/NAME.credential.jws`;
 * - `packages/*.tdf`;
 * - `config.json`: the portal configuration pinning the root key;
 * - `demo.json`: people, packages and expected outcomes.
 * Returns the parsed `demo.json`.
 */
export function buildDemo(outDir, { cli }) {
  const community = join(outDir, 'community');
  const identities = join(outDir, 'identities');
  const packages = join(outDir, 'packages');
  for (const folder of [community, identities, packages]) {
    mkdirSync(folder, { recursive: true });
  }
  // TODO: the trust commands' file names and the root key fingerprint output
  // follow the trust stream's CLI; they are wired when that CLI lands.
  valise(cli, ['community', 'init', '--name', COMMUNITY.name, '--out', community], outDir);
  const trust = join(community, 'trust.json');
  const rootKey = join(community, 'root.key.pem');
  for (const attribute of ATTRIBUTES) {
    valise(cli, ['attribute', 'add', '--trust', trust, '--root-key', rootKey, '--name', attribute.name, '--rule', attribute.rule, '--values', attribute.values.join(',')], outDir);
  }
  for (const org of ORGANIZATIONS) {
    valise(cli, ['member', 'add', '--trust', trust, '--root-key', rootKey, '--org', org.id, '--name', org.name, '--sector', org.sector, '--country', org.country, '--out', join(community, org.id)], outDir);
  }
  for (const person of PEOPLE) {
    const attrs = Object.entries(person.attributes).flatMap(([name, value]) => ['--attr', attributeFqn(name, value)]);
    valise(cli, ['credential', 'issue', '--trust', trust, '--org-key', join(community, person.org, 'signing.key.pem'), '--person', person.id, '--name', person.name, ...attrs, '--valid-for', '365', '--out', join(identities, person.id)], outDir);
  }
  for (const pkg of DEMO_PACKAGES) {
    const args = ['seal', join(DOCUMENTS, pkg.document), '--trust', trust, '--sign-key', join(community, 'alpha-cert', 'signing.key.pem'), '--label', pkg.label, '--media-type', pkg.mediaType, '-o', join(packages, pkg.file)];
    for (const org of pkg.toOrgs ?? []) {
      args.push('--to-org', org);
    }
    for (const person of pkg.toPeople ?? []) {
      args.push('--to-person', person);
    }
    for (const [name, value] of pkg.requireAttributes ?? []) {
      args.push('--attr', attributeFqn(name, value));
    }
    if (pkg.deny.length > 0) {
      args.push('--deny', pkg.deny.join(','));
    }
    if (pkg.marking) {
      args.push('--marking', pkg.marking);
    }
    valise(cli, args, outDir);
  }

  const fingerprint = valise(cli, ['trust', 'show', trust, '--root-fingerprint'], outDir).trim();
  const config = JSON.parse(readFileSync(join(ROOT, 'www', 'config.json'), 'utf8'));
  config.communityName = COMMUNITY.name;
  config.rootKeyFingerprints = [fingerprint];
  config.trustListUrl = 'trust-list.jws';
  writeFileSync(join(outDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  cpSync(join(DOCUMENTS, 'PROVENANCE.md'), join(outDir, 'PROVENANCE.md'));

  const manifest = {
    passphrase: DEMO_PASSPHRASE,
    people: PEOPLE.map((person) => ({
      ...person,
      keyFile: `identities/${person.id}.key.pem`,
      credentialFile: `identities/${person.id}.credential.jws`,
    })),
    packages: DEMO_PACKAGES.map((pkg) => ({ ...pkg, path: `packages/${pkg.file}` })),
  };
  writeFileSync(join(outDir, 'demo.json'), `${JSON.stringify(manifest, null, 2)}\n`);
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
  };
}

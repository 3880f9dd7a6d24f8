// The README's main command (`npm start`): installs what is missing, builds
// the wasm module and the CLI in release mode, creates the demo community
// in demo/, and serves the portal with the demo packages on 127.0.0.1.
//
// Environment: PORT (default 8080) sets the port.
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildDemo, cliPath, demoFiles, demoMounts } from './lib/demo.mjs';
import { contentSecurityPolicy, serveStatic } from './lib/serve.mjs';
import { ROOT, ensureWasmToolchain, run } from './lib/setup.mjs';

const port = Number.parseInt(process.env.PORT ?? '8080', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: PORT must be a port number, not ${process.env.PORT}`);
  process.exit(2);
}

ensureWasmToolchain();
run('node', [join(ROOT, 'scripts', 'build.mjs'), '--only', 'portal']);
run('cargo', ['build', '-p', 'valise', '--release', '--locked']);

const demoDir = join(ROOT, 'demo');
rmSync(demoDir, { recursive: true, force: true });
console.error('+ creating the demo community in demo/');
const demo = buildDemo(demoDir, { cli: cliPath('release') });

const www = join(ROOT, 'www');
// The origins allowed to frame the portal (its iframe mode) come from the
// configuration the portal serves.
const served = JSON.parse(readFileSync(demoFiles(demoDir)['/config.json'], 'utf8'));
const portal = await serveStatic({
  mounts: { '/': www, ...demoMounts(demoDir) },
  files: demoFiles(demoDir),
  port,
  csp: contentSecurityPolicy(join(www, 'index.html')),
  frameAncestors: served.embed?.allowedOrigins ?? [],
}).catch((error) => {
  console.error(`error: cannot listen on 127.0.0.1:${port}: ${error.message}`);
  console.error('hint: set PORT to a free port, e.g. PORT=8081 npm start');
  process.exit(1);
});

const lines = [
  '',
  `Valise portal: ${portal.url}`,
  '',
  'Demo identities (import the key file and the credential, then unlock):',
  ...demo.people.map((person) => `  ${person.name.padEnd(12)} ${relative(ROOT, join(demoDir, person.keyFile))}  ${relative(ROOT, join(demoDir, person.credentialFile))}`),
  `  passphrase of every demo key: ${demo.passphrase}`,
  '',
  'Demo packages (open them from the portal, or with ?src=):',
  ...demo.packages.map((pkg) => `  ${portal.url}?src=demo/${pkg.path}  ${pkg.label}  ${pkg.document}`),
  '',
  'Press Ctrl+C to stop.',
];
console.log(lines.join('\n'));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await portal.close();
    process.exit(0);
  });
}

// The README's main command (`npm start`): installs what is missing, builds
// the wasm module and the CLI in release mode, creates the demo community
// in demo/, serves the portal with the demo packages on 127.0.0.1, and runs
// the access-event collector (`valise collector serve`, SQLite in demo/)
// next to it, which the demo packages name.
//
// Environment: PORT (default 8080) sets the portal's port, EVENTS_PORT
// (default 8787) the collector's.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startCollector } from './lib/collector.mjs';
import { buildDemo, cliPath, serveDemoPortal } from './lib/demo.mjs';
import { startBanner } from './lib/start-banner.mjs';
import { ROOT, ensureWasmToolchain, run } from './lib/setup.mjs';

const port = Number.parseInt(process.env.PORT ?? '8080', 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: PORT must be a port number, not ${process.env.PORT}`);
  process.exit(2);
}
const eventsPort = Number.parseInt(process.env.EVENTS_PORT ?? '8787', 10);
if (!Number.isInteger(eventsPort) || eventsPort < 1 || eventsPort > 65535 || eventsPort === port) {
  console.error(`error: EVENTS_PORT must be a port number other than PORT, not ${process.env.EVENTS_PORT}`);
  process.exit(2);
}

ensureWasmToolchain();
run('node', [join(ROOT, 'scripts', 'build.mjs'), '--only', 'portal', '--only', 'portal-sanitize']);
run('cargo', ['build', '-p', 'valise', '--release', '--locked']);

const demoDir = join(ROOT, 'demo');
rmSync(demoDir, { recursive: true, force: true });
console.error('+ creating the demo community in demo/');
// The packages are sealed with the collector's address, so it is fixed
// before the demo is built. The example intranet page is served by the
// portal's own server, so the portal's origin is the one origin allowed to
// frame it. With PORT=0 that origin is not known yet, and no origin is.
const portalOrigin = port === 0 ? null : `http://127.0.0.1:${port}`;
const demo = buildDemo(demoDir, { cli: cliPath('release'), eventsUrl: `http://127.0.0.1:${eventsPort}/events`, portalOrigin });

const portal = await serveDemoPortal(demoDir, { port }).catch((error) => {
  console.error(`error: cannot listen on 127.0.0.1:${port}: ${error.message}`);
  console.error('hint: set PORT to a free port, e.g. PORT=8081 npm start');
  process.exit(1);
});

const eventsDb = join(demoDir, 'events.db');
const collector = await startCollector({
  cli: cliPath('release'),
  trust: join(demoDir, 'community', 'trust.json'),
  rootFingerprint: demo.rootFingerprint,
  db: eventsDb,
  port: eventsPort,
  allowOrigins: [new URL(portal.url).origin],
  home: join(demoDir, '.valise-home'),
}).catch(async (error) => {
  console.error(`error: the access-event collector did not start: ${error.message}`);
  console.error('hint: set EVENTS_PORT to a free port, e.g. EVENTS_PORT=8788 npm start');
  await portal.close();
  process.exit(1);
});

const lines = startBanner({ demo, demoDir, cli: cliPath('release'), portal, collector, eventsDb, portalOrigin });
console.log(lines.join('\n'));

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    await Promise.all([portal.close(), collector.close()]);
    process.exit(0);
  });
}

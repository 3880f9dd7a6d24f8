// Runs `valise collector serve` on 127.0.0.1 for `npm start` and the browser
// tests: SQLite storage, the demo community's trust list with its pinned
// root fingerprint, and CORS for the portal's origin.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** How long the collector may take to print its address, in milliseconds. */
const START_TIMEOUT_MS = 30_000;

/** Resolves to a TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the collector. `port` 0 lets it choose. `home` is its
 * VALISE_HOME. `extraArgs` go after the usual options, e.g.
 * `['--max-batch', '3']`. Resolves to `{ url, eventsUrl, stderr(), close() }` once
 * it prints `listening on http://ADDRESS`; `url` has no trailing slash.
 */
export function startCollector({ cli, trust, rootFingerprint, db, port = 0, allowOrigins = [], home, extraArgs = [] }) {
  const args = ['collector', 'serve', '--trust', trust, `--root-fingerprint=${rootFingerprint}`, '--db', `sqlite:${db}`, '--listen', `127.0.0.1:${port}`];
  for (const origin of allowOrigins) {
    args.push('--allow-origin', origin);
  }
  args.push(...extraArgs);
  const child = spawn(cli, args, { env: { ...process.env, VALISE_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
    }
    await exited;
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      close();
      reject(new Error(`valise collector serve printed no address within ${START_TIMEOUT_MS} ms:\n${stderr}`));
    }, START_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`valise collector serve could not start: ${error.message}`));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`valise collector serve exited (code ${code}, signal ${signal}):\n${stderr}`));
    });
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      const address = stdout.match(/listening on (http:\/\/\S+)/)?.[1];
      if (address) {
        clearTimeout(timer);
        const url = address.replace(/\/$/, '');
        resolve({ url, eventsUrl: `${url}/events`, stderr: () => stderr, close });
      }
    });
  });
}

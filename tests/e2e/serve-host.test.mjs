// The development portal server answers only requests whose Host is a
// loopback name with its port, so a DNS-rebinding page cannot read it.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { isAllowedHost } from '../../scripts/lib/serve.mjs';
import { startPortal } from './lib/server.mjs';

/** Sends a GET with a chosen Host header and resolves to the status code. */
function statusFor(url, host) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sent = request({ hostname, port, path: '/index.html', headers: { Host: host } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    sent.on('error', reject);
    sent.end();
  });
}

test('isAllowedHost accepts loopback names with the port only', () => {
  assert.equal(isAllowedHost('127.0.0.1:8080', 8080), true);
  assert.equal(isAllowedHost('LOCALHOST:8080', 8080), true);
  assert.equal(isAllowedHost('[::1]:8080', 8080), true);
  assert.equal(isAllowedHost('evil.example:8080', 8080), false);
  assert.equal(isAllowedHost('127.0.0.1:8081', 8080), false);
  assert.equal(isAllowedHost('127.0.0.1', 8080), false);
  assert.equal(isAllowedHost(undefined, 8080), false);
});

test('portal server rejects a rebinding Host', async () => {
  const portal = await startPortal();
  try {
    const { port } = new URL(portal.url);
    assert.equal(await statusFor(portal.url, `evil.example:${port}`), 421);
    assert.equal(await statusFor(portal.url, `127.0.0.1:${port}`), 200);
    assert.equal(await statusFor(portal.url, `localhost:${port}`), 200);
  } finally {
    await portal.close();
  }
});

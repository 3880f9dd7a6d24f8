// A file name with a bidi control cannot reorder the viewer's own words.
// The package file picked in the portal and the `name` a host page sends to
// the frame both contain U+202E (RIGHT-TO-LEFT OVERRIDE): the activity panel
// and the frame's unlock prompt show it as the token "⟨U+202E⟩", inside a
// <bdi> of its own.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from '../lib/browser.mjs';
import { demoCommunity, importIdentity, waitForOutcome } from '../lib/demo.mjs';
import { startEmbedServers } from './support.mjs';

const RLO = '\u202E';
const TOKEN = '⟨U+202E⟩';
// The override makes this name display as "reportexe.pdf.tdf".
const FILE_NAME = `report${RLO}fdp.exe.tdf`;
const SHOWN_NAME = FILE_NAME.replace(RLO, TOKEN);

let servers;
let browser;
let demo;

before(async () => {
  demo = demoCommunity();
  servers = await startEmbedServers(demo.dir);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await servers?.close();
});

/** Returns the package as a file the page can pick, named with the override. */
function pickedFile(bytes) {
  return { name: FILE_NAME, mimeType: 'application/octet-stream', buffer: bytes };
}

test('activity panel reveals a bidi file name', async () => {
  const { context, page } = await newPage(browser);
  await page.goto(servers.portal.url);
  await waitForPortal(page);
  await importIdentity(page, demo.dir, 'alice');
  await page.locator('#lock-identity').waitFor();

  await page.locator('#package-file').setInputFiles(pickedFile(readFileSync(join(demo.dir, 'packages', 'advisory.tdf'))));
  assert.equal(await waitForOutcome(page), 'document');
  const opened = page.locator('#activity-list li[data-type="opened"]');
  assert.equal(await opened.locator('bdi').first().textContent(), SHOWN_NAME, 'the opened entry isolates the revealed name');
  assert.ok(!(await opened.textContent()).includes(RLO), 'the opened entry contains no raw override');

  await page.locator('#screen-document button', { hasText: 'Close this document' }).click();
  await page.locator('#package-file').setInputFiles(pickedFile(Buffer.from('not a package')));
  assert.equal(await waitForOutcome(page), 'refused');
  const denied = page.locator('#activity-list li[data-type="denied"]');
  assert.equal(await denied.locator('bdi').first().textContent(), SHOWN_NAME, 'the refused entry isolates the revealed name');
  assert.ok(!(await denied.textContent()).includes(RLO), 'the refused entry contains no raw override');
  await context.close();
});

test('frame unlock prompt reveals a bidi name', async () => {
  const { context, page } = await newPage(browser);
  const exampleUrl = new URL('examples/intranet.html', servers.intranet.url);
  exampleUrl.searchParams.set('portal', servers.portal.url);
  await page.goto(exampleUrl.href);
  await page.waitForFunction(() => document.getElementById('frame').dataset.ready === 'true', null, { timeout: 30_000 });

  // The example page sends the picked file's name in the `valise:open` message.
  await page.locator('#frame-file').setInputFiles(pickedFile(readFileSync(join(demo.dir, 'packages', 'advisory.tdf'))));
  const status = page.frameLocator('#frame').locator('#frame-status');
  await status.locator('bdi').waitFor({ timeout: 30_000 });
  assert.equal(await status.locator('bdi').textContent(), SHOWN_NAME, 'the prompt isolates the revealed name');
  assert.equal(await status.textContent(), `Unlock your identity to open ${SHOWN_NAME}.`);
  await context.close();
});

// Every demo package opened as every demo person: each is permitted or
// refused exactly as the demo community's expectations say, a permitted
// package shows its label banner (with the originator's marking, if any) at
// top and bottom and its rights, and a refusal shows the decision point's
// reason code with a next step. The packages sealed for an attribute-defined
// audience refuse a person without the attribute with `attribute_missing`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, newPage, waitForPortal } from './lib/browser.mjs';
import { demoCommunity, importIdentity, openPackageFile, waitForOutcome } from './lib/demo.mjs';
import { startPortal } from './lib/server.mjs';

const { dir, manifest } = demoCommunity();
let portal;
let browser;

before(async () => {
  portal = await startPortal({ demoDir: dir });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.close();
});

/** Returns to the open screen from the document or refused screen. */
async function backToOpen(page, outcome) {
  if (outcome === 'document') {
    await page.getByRole('button', { name: 'Close this document' }).click();
  } else if (outcome === 'refused') {
    await page.getByRole('button', { name: 'Open another package' }).click();
  }
  await page.locator('#package-file').waitFor();
}

for (const person of manifest.people) {
  describe(`as ${person.id}`, () => {
    let session;

    before(async () => {
      session = await newPage(browser);
      await session.page.goto(portal.url);
      await waitForPortal(session.page);
      await importIdentity(session.page, dir, person.id);
      await session.page.locator('#lock-identity').waitFor();
    });

    after(async () => {
      await session?.context.close();
    });

    for (const pkg of manifest.packages) {
      const expected = pkg.expect[person.id];
      test(`${pkg.file} is ${expected === 'permit' ? 'permitted' : `refused (${expected})`}`, async () => {
        const { page } = session;
        await openPackageFile(page, join(dir, pkg.path));
        const outcome = await waitForOutcome(page);
        if (expected === 'permit') {
          assert.equal(outcome, 'document', `${pkg.file} should open for ${person.id}`);
          const banners = page.locator('.tlp-banner');
          assert.equal(await banners.count(), 2, 'a banner at top and bottom');
          for (const banner of await banners.all()) {
            const text = await banner.innerText();
            assert.ok(text.includes(pkg.label), `the banner shows ${pkg.label}: ${text}`);
            if (pkg.marking) {
              // The CLI takes SYSTEM:VALUE; the banner shows "SYSTEM: VALUE".
              const [system, value] = pkg.marking.split(':');
              assert.ok(text.includes(`${system}: ${value}`), `the banner shows the originator's marking ${pkg.marking}: ${text}`);
            }
          }
          if (pkg.mediaType === 'text/markdown') {
            // The sandboxed frame has an opaque origin: its style sheet loads
            // only if the portal's server lets other origins read that file.
            const frame = page.frameLocator('iframe.valise-frame');
            const maxWidth = await frame.locator('body').evaluate((body) => getComputedStyle(body).maxWidth);
            assert.notEqual(maxWidth, 'none', 'the frame style sheet applies in the portal');
          }
          for (const right of ['print', 'copy', 'export']) {
            const allowed = await page.locator(`#rights-list [data-right="${right}"]`).getAttribute('data-allowed');
            if (pkg.deny.includes(right)) {
              assert.equal(allowed, 'false', `${right} is denied by the originator`);
            }
          }
        } else {
          assert.equal(outcome, 'refused', `${pkg.file} should be refused for ${person.id}`);
          const reason = page.locator(`#screen-refused [data-code="${expected}"]`);
          assert.equal(await reason.count(), 1, `reason ${expected} is shown`);
          assert.match(await reason.innerText(), /Next step: \S/);
          assert.equal(await page.locator('#document-content').count(), 0, 'nothing is rendered');
        }
        await backToOpen(page, outcome);
      });
    }
  });
}

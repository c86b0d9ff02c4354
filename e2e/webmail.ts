/**
 * The web mail container in a real browser (issue 3 (f)): Debian's chromium driven by
 * playwright-core against the published mua port. alice writes to bob in the browser;
 * bob sees it arrive and reads it. Screenshots go to the given folder.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MailLab } from './fixture.ts';

const CHROMIUM = process.env.MXLAB_CHROMIUM ?? '/usr/bin/chromium';
/** The whole chain: submission, MX hop, scan, LMTP, then the MUA's live update. */
const ARRIVAL_TIMEOUT_MS = 90_000;
const PAGE_TIMEOUT_MS = 30_000;

async function logIn(browser: Browser, lab: MailLab, address: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  await page.goto(`http://${lab.endpoints.mua.host}:${lab.endpoints.mua.port}/`);
  await page.fill('#login-address', address);
  await page.fill('#login-password', lab.password);
  await page.click('#login-submit');
  await page.waitForSelector('#app-view:not([hidden])');
  return page;
}

export async function webmailAliceToBob(lab: MailLab, shotsDir: string): Promise<void> {
  await mkdir(shotsDir, { recursive: true });
  const subject = `webmail ${randomBytes(6).toString('hex')}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const alice = await logIn(browser, lab, 'alice@alpha.test');
    const bob = await logIn(browser, lab, 'bob@beta.test');

    await alice.click('#compose-button');
    await alice.fill('#compose-to', 'bob@beta.test');
    await alice.fill('#compose-subject', subject);
    await alice.locator('#compose-text').pressSequentially('Hello Bob, from the browser.', { delay: 0 });
    await alice.click('#compose-send');
    await alice.waitForSelector('#compose', { state: 'hidden' });
    await alice.screenshot({ path: join(shotsDir, 'alice-sent.png') });

    const row = bob.locator('#messages a.row', { hasText: subject });
    await row.waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    await row.click();
    await bob.waitForSelector('#reader-content .text-body');
    assert.match((await bob.textContent('#reader-content .text-body')) ?? '', /Hello Bob, from the browser\./u);
    assert.match((await bob.textContent('#reader-content .headers')) ?? '', /alice@alpha\.test/u);
    await bob.screenshot({ path: join(shotsDir, 'bob-reads.png') });
  } finally {
    await browser.close();
  }
}

/**
 * Headless Chromium for the console tests: Debian's /usr/bin/chromium driven by playwright-core
 * (never a downloaded browser), with the flags that keep it from calling Google's hosts. Every
 * request a page makes is recorded, so a test can show that none left 127.0.0.1.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  browser: Browser;
  context: BrowserContext;
  /** Every URL a page of this context asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, headless: true });
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 } });
  // Generous: the machine is shared and may be slow; a wait ends as soon as its condition holds.
  context.setDefaultTimeout(90_000);
  context.setDefaultNavigationTimeout(90_000);
  const requests: string[] = [];
  context.on('request', (request) => requests.push(request.url()));
  return { browser, context, requests, close: () => browser.close() };
}

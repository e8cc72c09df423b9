// E2E test of the map page in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core from tiles/node_modules). Usage: node map.mjs <base_url> <screenshot.png>
// Loads the page, searches an address, waits for the 15-minute list, clicks a facility on
// the map and checks its card. Exits non-zero on any failure.
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
const require = createRequire(new URL('../../tiles/package.json', import.meta.url));
const { chromium } = require('playwright-core');

const [base, shot] = process.argv.slice(2);
if (!base || !shot) { console.error('usage: node map.mjs <base_url> <screenshot.png>'); process.exit(2); }
const userDir = mkdtempSync(join(tmpdir(), 'diming-e2e-'));
// a fresh --user-data-dir: playwright passes it for a persistent context
const browser = await chromium.launchPersistentContext(userDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-gl=swiftshader', '--enable-unsafe-swiftshader'],
  viewport: { width: 1280, height: 800 },
});
let failed = null;
const external = [];
try {
  const page = browser.pages()[0] || await browser.newPage();
  page.on('console', (m) => console.error('[page]', m.type(), m.text()));
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) external.push(r.url()); });
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForFunction(() => window.dimingMap && window.dimingMap.loaded(), null, { timeout: 60000 });
  const title = await page.textContent('h1');
  if (title.trim() !== '养老地图') throw new Error('title: ' + title);
  // the legend lists the six facility types in Chinese
  const legend = await page.textContent('#types');
  for (const t of ['养老机构', '日间照料中心', '助餐点/老年食堂']) if (!legend.includes(t)) throw new Error('legend lacks ' + t);

  // search an address (resolved by /v1/geocode, or by the division fallback before it is merged)
  await page.fill('#q', '上海市黄浦区');
  await page.click('#search button');
  await page.waitForFunction(() => document.querySelectorAll('#nearby-list li').length > 0, null, { timeout: 60000 });
  const status = await page.textContent('#search-status');
  if (!status.includes('黄浦区')) throw new Error('search status: ' + status);
  const method = await page.textContent('#nearby-method');
  const items = await page.$$eval('#nearby-list li', (ls) => ls.map((l) => l.textContent));
  console.log('search:', status, '|', method, '|', items.length, 'facilities:', items.join('; '));
  if (!items.some((t) => /分钟/.test(t))) throw new Error('nearby list has no walking times: ' + items);

  // click a facility on the map: the first rendered facility's screen position
  await page.waitForFunction(() => window.dimingMap.queryRenderedFeatures({ layers: ['facilities'] }).length > 0, null, { timeout: 60000 });
  const target = await page.evaluate(() => {
    const m = window.dimingMap;
    const f = m.queryRenderedFeatures({ layers: ['facilities'] })[0];
    const p = m.project(f.geometry.coordinates);
    const r = m.getCanvas().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y, name: f.properties.name, type_zh: f.properties.type_zh };
  });
  await page.mouse.click(target.x, target.y);
  await page.waitForSelector('#card:not([hidden])', { timeout: 20000 });
  const cardName = await page.textContent('#card-name');
  const card = await page.textContent('#card-fields');
  console.log('card:', cardName, '|', card);
  if (cardName !== target.name) throw new Error(`card shows ${cardName}, clicked ${target.name}`);
  for (const k of ['类型', '等级', '床位', '价格', '地址', '电话', '时间']) if (!card.includes(k)) throw new Error('card lacks ' + k);
  if (!card.includes(target.type_zh)) throw new Error('card lacks the type ' + target.type_zh);
  if (!(await page.textContent('#card-photo')).length) throw new Error('card lacks the photo slot');
  // coverage toggle works without errors
  await page.check('#t-coverage');
  await page.waitForTimeout(300);
  mkdirSync(dirname(shot), { recursive: true });
  await page.screenshot({ path: shot });
  // a phone-sized screen: the map and the panel both visible
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const mapBox = await page.locator('#map').boundingBox();
  const panelBox = await page.locator('#panel').boundingBox();
  if (!(mapBox.height > 200 && panelBox.width <= 390 && panelBox.y >= mapBox.y + mapBox.height - 1))
    throw new Error('phone layout: ' + JSON.stringify({ mapBox, panelBox }));
  await page.screenshot({ path: shot.replace(/\.png$/, '-phone.png') });
  if (external.length) throw new Error('external requests: ' + external.join(', '));
} catch (e) {
  failed = e;
} finally {
  await browser.close();
}
if (failed) { console.error('E2E FAILED:', failed.message); process.exit(1); }
console.log('E2E OK, screenshot', shot);

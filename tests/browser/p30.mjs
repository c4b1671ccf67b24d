// The dashboard and the public catalogue of a running p30 in a real browser (Debian's chromium, headless,
// driven by playwright-core): the headline figures match the API's, a simplification recorded through the
// API shows up live (SSE) without a reload, the catalogue finds a procedure by a query without diacritics
// using the keyboard only, and screenshots at desktop (1280) and phone (390) width are saved.
//
//   node tests/browser/p30.mjs BASE_URL ADMIN_TOKEN [ARTIFACT_DIR]
//
// Every wait is on the page's state (waitForFunction, waitForURL), never on a sleep. Exits 0 when every
// check passed, 1 with the failing check otherwise. The Rust test services/p30/tests/browser.rs runs it.

import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, token, artifacts = 'target/browser-artifacts'] = process.argv.slice(2);
if (!base || !token) {
  console.error('usage: node tests/browser/p30.mjs BASE_URL ADMIN_TOKEN [ARTIFACT_DIR]');
  process.exit(64);
}
const CHROMIUM = process.env.P30_CHROMIUM || '/usr/bin/chromium';
// Generous: the machine may be busy building. These bound a hang; they are not performance thresholds.
const WAIT = 60_000;
const started = Date.now();
let current = null; // the page being tested, for a screenshot when a check fails

function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

function step(name) {
  console.log(`ok  ${String(((Date.now() - started) / 1000).toFixed(1)).padStart(5)} s  ${name}`);
}

/** Waits until `predicate` holds in the page, failing with what was awaited. */
async function until(page, what, predicate, arg) {
  try {
    return await page.waitForFunction(predicate, arg, { timeout: WAIT });
  } catch (e) {
    throw new Error(`check failed: ${what} (not within ${WAIT / 1000} s: ${e.message.split('\n')[0]})`);
  }
}

/** Waits until the page is at a URL that `matches`, failing with what was awaited. */
async function untilUrl(page, what, matches) {
  try {
    await page.waitForURL(matches, { timeout: WAIT });
  } catch (e) {
    throw new Error(`check failed: ${what} (not within ${WAIT / 1000} s; at ${page.url()})`);
  }
}

async function api(route, init = {}) {
  const response = await fetch(new URL(route, base), init);
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method || 'GET'} ${route}: ${response.status} ${text}`);
  return JSON.parse(text);
}

// The page writes numbers the Vietnamese way: `1.234.567 ₫`, `39,8 %`, `12,5`; `—` where there is none.
function vnd(text) {
  const t = text.trim();
  if (t === '—') return null;
  check(/^\d{1,3}(\.\d{3})* ₫$/.test(t), `money written the Vietnamese way: ${JSON.stringify(t)}`);
  return Number(t.replace(/[^\d]/g, ''));
}
function decimal(text) {
  const t = text.trim().replace(/ ?%$/, '');
  if (t === '—') return null;
  check(/^-?\d+(,\d+)?$/.test(t), `a decimal with a comma: ${JSON.stringify(text)}`);
  return Number(t.replace(',', '.'));
}
function money(value) {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  check(Number.isSafeInteger(n), `money ${value} fits a JavaScript number exactly`);
  return n;
}

// Shown with one decimal as a percentage, or two decimals as days: equal to the API's at that precision.
function sameFigure(shown, exact, scale, places, what) {
  if (exact === null || exact === undefined) {
    check(shown === null, `${what}: the page shows ${shown}, the API has none`);
    return;
  }
  check(shown !== null, `${what}: the page shows none, the API has ${exact}`);
  const tolerance = 0.5 * 10 ** -places + 1e-9;
  check(Math.abs(shown - exact * scale) <= tolerance, `${what}: the page shows ${shown}, the API has ${exact * scale}`);
}

/** What the dashboard shows: each programme's card, the table's rows, the head it was rendered at. */
async function dashboardFigures(page) {
  return page.evaluate(() => {
    const cards = [...document.querySelectorAll('section[data-programme]')].map((card) => ({
      id: card.dataset.programme,
      figures: Object.fromEntries([...card.querySelectorAll('[data-figure]')].map((e) => [e.dataset.figure, e.textContent])),
    }));
    const rows = [...document.querySelectorAll('table[data-groups] tbody tr')].map((tr) => ({
      key: tr.querySelector('th').textContent.trim(),
      cells: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    }));
    return { head: Number(document.querySelector('main').dataset.head), asOf: document.querySelector('#as_of').value, cards, rows };
  });
}

/** Compares the dashboard with `/v1/programmes` and `/v1/reductions?group_by=agency` as of the page's date. */
async function compareWithApi(page) {
  const shown = await dashboardFigures(page);
  const programmes = (await api(`/v1/programmes?as_of=${shown.asOf}`)).items;
  check(programmes.length > 0, 'the demo data defines a programme');
  check(shown.cards.length === programmes.length, `${shown.cards.length} programme cards for ${programmes.length} programmes`);
  for (const p of programmes) {
    const card = shown.cards.find((c) => c.id === p.id);
    check(card, `a card for the programme ${p.id}`);
    sameFigure(decimal(card.figures.cost_reduction), p.figures.cost_reduction, 100, 1, `${p.id} cost reduction (%)`);
    sameFigure(decimal(card.figures.time_reduction), p.figures.time_reduction, 100, 1, `${p.id} time reduction (%)`);
    check(vnd(card.figures.missing_vnd) === money(p.missing_vnd), `${p.id} missing VND: ${card.figures.missing_vnd} vs ${p.missing_vnd}`);
    sameFigure(decimal(card.figures.missing_days), p.missing_days, 1, 2, `${p.id} missing days`);
  }
  const reductions = await api(`/v1/reductions?group_by=agency&as_of=${shown.asOf}`);
  check(shown.rows.length === reductions.groups.length, `${shown.rows.length} rows for ${reductions.groups.length} agencies`);
  for (const g of reductions.groups) {
    const row = shown.rows.find((r) => r.key === g.key);
    check(row, `a row for the agency ${g.key}`);
    const [baseline, current, cost, baseDays, curDays, time, roots] = row.cells;
    check(vnd(baseline) === money(g.baseline_annual_cost_vnd), `${g.key} baseline cost: ${baseline} vs ${g.baseline_annual_cost_vnd}`);
    check(vnd(current) === money(g.current_annual_cost_vnd), `${g.key} current cost: ${current} vs ${g.current_annual_cost_vnd}`);
    sameFigure(decimal(cost), g.cost_reduction, 100, 1, `${g.key} cost reduction (%)`);
    sameFigure(decimal(baseDays), g.baseline_avg_days, 1, 2, `${g.key} baseline days`);
    sameFigure(decimal(curDays), g.current_avg_days, 1, 2, `${g.key} current days`);
    sameFigure(decimal(time), g.time_reduction, 100, 1, `${g.key} time reduction (%)`);
    check(Number(roots) === g.roots, `${g.key} roots: ${roots} vs ${g.roots}`);
  }
  return shown;
}

/** Presses Tab until `predicate(document.activeElement)` holds (a keyboard user's way there). */
async function tabTo(page, predicate, arg, what) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(predicate, arg)) {
      const outline = await page.evaluate(() => {
        const s = getComputedStyle(document.activeElement);
        return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
      });
      check(outline.style !== 'none' && outline.width >= 2, `${what} shows where the focus is (outline ${JSON.stringify(outline)})`);
      return;
    }
  }
  throw new Error(`check failed: ${what} is not reachable with Tab`);
}

/** Semantic and readable: one h1, a main, a nav, every form field labelled, nothing wider than the screen. */
async function checkStructure(page, what) {
  const s = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    h1: document.querySelectorAll('h1').length,
    main: document.querySelectorAll('main').length,
    nav: document.querySelectorAll('nav[aria-label]').length,
    unlabelled: [...document.querySelectorAll('input:not([type=hidden]), select')]
      .filter((e) => !(e.id && document.querySelector(`label[for="${e.id}"]`)) && !e.getAttribute('aria-label'))
      .map((e) => e.outerHTML),
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    smallText: [...document.querySelectorAll('main p, main li, main td, main th, main dd, main label')]
      .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 12).length,
  }));
  check(s.lang === 'vi', `${what}: <html lang="vi"> (Vietnamese first), not ${s.lang}`);
  check(s.h1 === 1 && s.main === 1 && s.nav >= 1, `${what}: one h1 (${s.h1}), one main (${s.main}), a labelled nav (${s.nav})`);
  check(s.unlabelled.length === 0, `${what}: every form field has a label: ${s.unlabelled}`);
  check(s.overflow <= 0, `${what}: the page is ${s.overflow}px wider than the screen`);
  check(s.smallText === 0, `${what}: ${s.smallText} text elements smaller than 12px`);
}

async function shot(page, name) {
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`    screenshot ${file}`);
}

async function dashboardLiveAndKeyboard(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  current = page;
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(new URL('/', base).href);
  await until(page, 'the dashboard is rendered', () => document.querySelector('main')?.dataset.head);
  await checkStructure(page, 'dashboard at 1280');
  const before = await compareWithApi(page);
  step(`dashboard headline and table match /v1/programmes and /v1/reductions (as of ${before.asOf}, head ${before.head})`);
  await shot(page, 'dashboard-1280.png');

  // Sort the table from the keyboard: Tab to the column's button, Enter.
  await tabTo(page, () => document.activeElement?.closest('table[data-groups] th:nth-child(3)') !== null, null, 'the current cost column');
  await page.keyboard.press('Enter');
  await until(page, 'Enter on the column button sorts the table', () => document.querySelector('table[data-groups] th:nth-child(3)').getAttribute('aria-sort') === 'ascending');
  const sorted = await page.$$eval('table[data-groups] tbody tr td:nth-child(3)', (tds) => tds.map((td) => Number(td.dataset.v)));
  check(sorted.every((v, i) => i === 0 || sorted[i - 1] <= v), `rows sorted by current cost: ${sorted}`);
  step('the table sorts from the keyboard (Tab, Enter) and says so in aria-sort');

  // Live: record a simplification through the API and watch the page follow without reloading.
  await page.evaluate(() => { window.p30NotReloaded = true; });
  let navigations = 0;
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations += 1; });
  const listed = (await api('/v1/procedures?status=active&limit=1000')).items;
  let target = null;
  for (const p of listed) {
    const c = p.current;
    if (c.fee_vnd < 2 || c.annual_volume === 0 || c.processing_days < 2) continue;
    const detail = await api(`/v1/procedures/${encodeURIComponent(p.code)}`);
    if (detail.baseline) { target = detail; break; }
  }
  check(target, 'an active procedure with a baseline, a fee and a volume to simplify');
  const agencyRow = (shown) => shown.rows.find((r) => r.key === target.baseline.agency)?.cells[1];
  const written = await api(`/v1/procedures/${encodeURIComponent(target.code)}/simplifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      set: { fee_vnd: Math.floor(target.current.fee_vnd / 2), processing_days: Math.floor(target.current.processing_days / 2) },
      measures: ['kiểm thử trên trình duyệt'],
      effective_on: before.asOf,
      note: 'browser test',
    }),
  });
  const seq = written.events[0].seq;
  step(`recorded a simplification of ${target.code} (${target.baseline.agency}) through the API: seq ${seq}`);
  await until(page, `the page shows the log up to seq ${seq} without a reload (live through /v1/subscribe)`, (s) => Number(document.querySelector('main').dataset.head) >= s, seq);
  await until(
    page,
    `the latest changes begin with ${target.code}`,
    (code) => document.querySelector('ul.changes li a')?.getAttribute('href') === `/catalogue/${code}`,
    target.code,
  );
  const after = await compareWithApi(page);
  check(agencyRow(after) !== agencyRow(before), `${target.baseline.agency}'s current cost moved: ${agencyRow(before)} → ${agencyRow(after)}`);
  check(navigations === 0 && (await page.evaluate(() => window.p30NotReloaded === true)), 'the page was not reloaded');
  step(`the page followed live (SSE), without a reload: ${target.baseline.agency} ${agencyRow(before)} → ${agencyRow(after)}; it still matches the API`);
  await shot(page, 'dashboard-1280-after-live-update.png');
  check(errors.length === 0, `no script errors: ${errors}`);
  await context.close();
}

async function catalogueByKeyboard(browser, width, suffix) {
  const phone = width < 600;
  const context = await browser.newContext({
    viewport: { width, height: phone ? 844 : 900 },
    isMobile: phone,
    hasTouch: phone,
    locale: 'vi-VN',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  current = page;
  if (phone) {
    await page.goto(new URL('/', base).href);
    await until(page, 'the dashboard is rendered', () => document.querySelector('main')?.dataset.head);
    await checkStructure(page, `dashboard at ${width}`);
    await shot(page, `dashboard-${suffix}.png`);
  }
  await page.goto(new URL('/catalogue', base).href);
  await tabTo(page, () => document.activeElement?.id === 'q', null, 'the search field');
  await page.keyboard.type('dang ky khai sinh');
  await page.keyboard.press('Enter');
  await untilUrl(page, 'Enter in the search field searches', /\/catalogue\?q=dang/);
  const hit = await until(page, 'a result named "Đăng ký khai sinh" for "dang ky khai sinh"', () => {
    const a = [...document.querySelectorAll('main ul a')].find((e) => e.textContent.includes('Đăng ký khai sinh'));
    return a && a.getAttribute('href');
  });
  const href = await hit.jsonValue();
  await checkStructure(page, `catalogue search at ${width}`);
  step(`at ${width}px: typed "dang ky khai sinh" (no diacritics) and found "Đăng ký khai sinh" (${href})`);
  await shot(page, `catalogue-search-${suffix}.png`);
  await tabTo(page, (h) => document.activeElement?.getAttribute('href') === h, href, 'the result link');
  await page.keyboard.press('Enter');
  await untilUrl(page, `Enter on the result opens ${href}`, (url) => url.pathname === href);
  await until(page, 'the procedure\'s page is titled with its name', () => document.querySelector('main h2')?.textContent.includes('Đăng ký khai sinh'));
  const entry = await page.evaluate(() => ({
    terms: [...document.querySelectorAll('main dl dt')].map((e) => e.textContent),
    history: document.querySelectorAll('main ul.changes li time').length,
  }));
  for (const term of ['Thời hạn giải quyết', 'Phí, lệ phí', 'Thành phần hồ sơ', 'Căn cứ pháp lý']) {
    check(entry.terms.includes(term), `the procedure's page lists "${term}" (it has ${entry.terms})`);
  }
  check(entry.history > 0, 'the procedure\'s page tells its history');
  await checkStructure(page, `catalogue entry at ${width}`);
  step(`at ${width}px: opened ${href} with Enter: its requirements and history are there`);
  await shot(page, `catalogue-entry-${suffix}.png`);
  await context.close();
}

const watchdog = setTimeout(() => {
  console.error(`the browser test did not finish in ${WAIT * 5 / 1000} s`);
  process.exit(1);
}, WAIT * 5);
watchdog.unref();

mkdirSync(artifacts, { recursive: true });
rmSync(path.join(artifacts, 'failure.png'), { force: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});
let failed = false;
try {
  step(`chromium ${browser.version()} started`);
  await dashboardLiveAndKeyboard(browser);
  await catalogueByKeyboard(browser, 1280, '1280');
  await catalogueByKeyboard(browser, 390, '390');
  step('every check passed');
} catch (e) {
  failed = true;
  console.error(e && e.stack ? e.stack : String(e));
  if (current && !current.isClosed()) {
    const file = path.join(artifacts, 'failure.png');
    await current.screenshot({ path: file, fullPage: true }).then(() => console.error(`the page as it was: ${file}`), () => {});
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);

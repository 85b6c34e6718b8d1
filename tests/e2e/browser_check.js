// browser_check.js: the exporter's pages in headless Chromium (playwright-core).
// Called by browser_test.sh with the runs it produced:
//   node browser_check.js --tools=DIR --chromium=BIN --base=URL --out=DIR
//        --failed-run=DRILL/RUN --long-run=DRILL/RUN --passed-run=DRILL/RUN
//        [--user=U --password=P] [--expect-running=DRILL]
// Checks, at a 1280 px wide window:
//   /: each drill's last result links to its run page; a failed run shows its
//      phase and the first line of its error; a running drill shows its phase
//      and elapsed time next to its previous result; the history marks link
//      to their runs;
//   the failed run's page: the failure, the timeline, pg_restore's errors with
//      their archive entries, the log's tail, links to the run's files and
//      none to the dump;
//   on every page: no table wider than the window (a long error wraps), and
//   every link answers 200.
// Screenshots (full pages) go to --out.
'use strict';
const path = require('path');
const fs = require('fs');

const args = {};
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/s.exec(a);
  if (!m) throw new Error('unexpected argument ' + a);
  args[m[1]] = m[2];
}
for (const k of ['tools', 'chromium', 'base', 'out', 'failed-run', 'long-run', 'passed-run']) {
  if (!args[k]) throw new Error('--' + k + ' is required');
}
const { chromium } = require(path.join(args.tools, 'node_modules', 'playwright-core'));
const base = args.base.replace(/\/$/, '');
const WIDTH = 1280;
const failures = [];
function check(ok, what) {
  if (ok) {
    console.log('ok: ' + what);
  } else {
    console.log('FAIL: ' + what);
    failures.push(what);
  }
}
const [failDrill, failRun] = args['failed-run'].split('/');
const [longDrill, longRun] = args['long-run'].split('/');
const [passDrill, passRun] = args['passed-run'].split('/');
const runPath = (drill, run) => `/drills/${drill}/runs/${run}`;

// Every table inside the window, and the page not scrolling sideways.
async function checkWidths(page, name) {
  const wide = await page.evaluate(() => {
    const out = [];
    document.querySelectorAll('table').forEach((t, i) => {
      const r = t.getBoundingClientRect();
      if (r.right > window.innerWidth + 0.5 || t.scrollWidth > t.clientWidth + 1) {
        out.push(`table ${i} (${t.id || t.querySelector('th')?.textContent}): right ${r.right}, ` +
                 `scrollWidth ${t.scrollWidth} > clientWidth ${t.clientWidth}`);
      }
    });
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth) {
      out.push(`the page scrolls sideways: ${doc.scrollWidth} > ${window.innerWidth}`);
    }
    return out;
  });
  check(wide.length === 0, `${name}: no table wider than ${WIDTH} px` +
        (wide.length ? ': ' + wide.join('; ') : ''));
}

async function links(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('a[href]'), a => a.href));
}

async function visit(page, url, shot) {
  const response = await page.goto(base + url, { waitUntil: 'load' });
  check(response && response.status() === 200, `${url} answers 200 (got ${response && response.status()})`);
  fs.mkdirSync(args.out, { recursive: true });
  await page.screenshot({ path: path.join(args.out, shot), fullPage: true });
  await checkWidths(page, url);
  return links(page);
}

async function text(page, selector) {
  const el = await page.$(selector);
  return el ? (await el.innerText()) : null;
}

(async () => {
  const browser = await chromium.launch({ executablePath: args.chromium, headless: true });
  const options = { viewport: { width: WIDTH, height: 900 } };
  if (args.user) options.httpCredentials = { username: args.user, password: args.password };
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const seen = new Set();

  // The API says what the pages must show.
  const api = await (await context.request.get(base + '/api/v1/drills')).json();
  const lastRun = name => api.drills.find(d => d.name === name).last_run;
  const failError = lastRun(failDrill).error;
  const longError = lastRun(longDrill).error;

  // The landing page.
  for (const l of await visit(page, '/', 'landing.png')) seen.add(l);
  const failCell = await text(page, `tr[data-drill="${failDrill}"] td.result`);
  check(failCell && failCell.includes('FAILED in restore'),
        `/: ${failDrill} shows its failed phase: ${failCell}`);
  check(failCell && failCell.includes(failError.split('\n')[0].slice(0, 80)),
        `/: ${failDrill} shows the first line of its error`);
  const longCell = await text(page, `tr[data-drill="${longDrill}"] td.result`);
  check(longCell && longCell.includes('FAILED in checks') && longCell.includes('no_number_xxxx'),
        `/: ${longDrill} shows its phase and its long error`);
  check(await page.$(`td.result a[href="${runPath(failDrill, failRun)}"]`) !== null,
        `/: the last result of ${failDrill} links to its run page`);
  if (args['expect-running']) {
    const cell = await text(page, `tr[data-drill="${args['expect-running']}"] td.result`);
    check(cell && /running: backup, for \d/.test(cell) && /previous/.test(cell) && /PASSED/.test(cell),
          `/: running ${args['expect-running']} shows its phase, elapsed time and previous result: ${cell}`);
  }
  for (const [drill, run, cls] of [[failDrill, failRun, 'bad'], [longDrill, longRun, 'bad'],
                                   [passDrill, passRun, 'ok']]) {
    const mark = await page.$(`tr[data-drill="${drill}"] td.history a.mark.${cls}[href="${runPath(drill, run)}"]`);
    check(mark !== null, `/: ${drill}'s history has a ${cls} mark linking to run ${run}`);
    const markText = mark ? await mark.innerText() : '';
    check(/\d/.test(markText), `/: the mark of ${drill} run ${run} shows its duration: ${markText}`);
  }

  // The failed run's page.
  for (const l of await visit(page, runPath(failDrill, failRun), 'run_failed.png')) seen.add(l);
  const failure = await text(page, '#failure');
  check(failure && failure.includes('restore') && failure.includes(failError.split('\n')[0]),
        'run page: the failure, its phase and its error');
  const timeline = await page.$$eval('h2 + table tbody tr td:first-child', tds => tds.map(t => t.textContent));
  check(['guard', 'backup', 'verify'].every(p => timeline.some(t => t.startsWith(p))) &&
        timeline.some(t => t.startsWith('restore (failed)')),
        'run page: the timeline lists guard, backup, verify and the failed restore: ' + timeline.join(', '));
  const errors = await page.$$eval('#restore-errors + table tbody tr', rows => rows.map(r => r.innerText));
  check(errors.length > 0 && errors.length <= 20, `run page: ${errors.length} restore errors listed (1 to 20)`);
  check(errors.some(e => /TOC entry \d+/.test(e) && e.includes('does not exist')),
        'run page: a restore error verbatim with its archive entry');
  const tail = await text(page, '#restore-log + pre');
  check(tail && tail.split('\n').filter(Boolean).length > 0 && tail.split('\n').length <= 51,
        'run page: the restore log\'s tail (at most 50 lines)');
  const hrefs = await page.$$eval('a[href*="/files/"]', as => as.map(a => a.getAttribute('href')));
  const filesBase = runPath(failDrill, failRun) + '/files/';
  for (const f of [`drill_summary_${failRun}.md`, `drill_summary_${failRun}.json`, `restore_${failRun}.log`]) {
    check(hrefs.includes(filesBase + f), `run page: links to ${f}`);
  }
  check(!hrefs.some(h => h.endsWith('.dump')), 'run page: no link to the dump');

  // The run with an 800-character error, and the passed run.
  for (const l of await visit(page, runPath(longDrill, longRun), 'run_long_error.png')) seen.add(l);
  const longFailure = await text(page, '#failure');
  check(longFailure && longFailure.includes(longError.split('\n')[0].slice(0, 200)),
        'long-error run page: the whole error is there');
  for (const l of await visit(page, runPath(passDrill, passRun), 'run_passed.png')) seen.add(l);
  const counts = await page.$$eval('td', tds => tds.filter(t => t.textContent === 'equal').length);
  check(counts >= 2, `passed run page: row counts source = target (${counts} tables)`);

  // Every link on these pages answers 200.
  let n = 0;
  for (const url of seen) {
    if (!url.startsWith(base + '/')) {
      console.log('skipped (not this exporter): ' + url);
      continue;
    }
    const r = await context.request.get(url);
    n++;
    check(r.status() === 200, `link ${url.slice(base.length)} answers 200 (got ${r.status()})`);
  }
  check(n >= 10, `${n} links followed`);
  await browser.close();
  if (failures.length) {
    console.log(`${failures.length} check(s) failed`);
    process.exit(1);
  }
  console.log('all browser checks passed');
})().catch(e => {
  console.error('FAIL: ' + (e && e.stack || e));
  process.exit(1);
});

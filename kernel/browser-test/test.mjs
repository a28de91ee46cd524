// Browser test of the repdyn kernel: opens notebooks in the classic Jupyter
// Notebook server (Debian's jupyter-notebook) with Debian's Chromium driven
// by playwright-core, runs all cells as a user would (Cell > Run All), and
// checks that the charts rendered, progress bars ended full, no cell failed,
// and every verdict cell of the notebook file passed. Saves screenshots.
//
//   node test.mjs --url http://127.0.0.1:PORT --token TOKEN --dir NOTEBOOK_DIR \
//     --notebook 00-start-here.ipynb,04-sufficiency.ipynb --out DIR [--timeout-s 300] \
//     [--ui classic|lab]
//
// --ui lab drives JupyterLab instead (lab.mjs: the server is kernel/lab's).
//
// kernel/ci-test.sh starts the server (on a temporary copy of notebooks/)
// and runs this.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runLabNotebook } from './lab.mjs';

function args() {
  const a = { url: '', token: '', notebook: '00-start-here.ipynb', dir: '', out: '', timeoutS: 300, ui: 'classic' };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (k === 'url') a.url = v[i + 1];
    else if (k === 'token') a.token = v[i + 1];
    else if (k === 'notebook') a.notebook = v[i + 1];
    else if (k === 'out') a.out = v[i + 1];
    else if (k === 'dir') a.dir = v[i + 1];
    else if (k === 'timeout-s') a.timeoutS = Number(v[i + 1]);
    else if (k === 'ui') a.ui = v[i + 1];
    else throw new Error(`unknown flag ${v[i]}`);
  }
  if (!a.url || !a.out || !a.dir) throw new Error('need --url, --dir and --out');
  return a;
}

const opt = args();
fs.mkdirSync(opt.out, { recursive: true });
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'repdyn-chromium-'));
const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
// runNotebook opens nb, runs all its cells, checks what rendered and saves
// screenshots; it returns what it measured.
async function runNotebook(nb) {
  const base = nb.replace(/\.ipynb$/, '');
  // A fresh page per notebook (closing one skips its leave-page prompt).
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  const url = `${opt.url}/notebooks/${encodeURIComponent(nb)}?token=${encodeURIComponent(opt.token)}`;
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  // Wait for the notebook app and a connected, idle kernel.
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected() &&
    document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null, null, { timeout: 60000 });
  const kernelName = await page.evaluate(() => Jupyter.notebook.kernel.name);
  check(kernelName === 'repdyn', `${nb}: kernel is repdyn (got ${kernelName})`);

  const t0 = Date.now();
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  // Done when no code cell is queued or running ('*') and the kernel is idle;
  // a live widget cell (show.Explore) is measured and then interrupted.
  const widgets = await runAllWithWidgets(page, base);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`all cells ran in ${seconds.toFixed(1)} s`);

  const r = await page.evaluate(() => {
    const imgs = [...document.querySelectorAll('.output_area img')];
    const charts = imgs.filter((i) => i.complete && i.naturalWidth > 200 && i.naturalHeight > 100);
    const bars = [...document.querySelectorAll('.repdyn-progress')];
    const fills = bars.map((b) => {
      const f = b.querySelector('.repdyn-progress-fill');
      return f ? f.getBoundingClientRect().width / f.parentElement.getBoundingClientRect().width : 0;
    });
    const text = document.querySelector('#notebook-container').innerText;
    return {
      images: imgs.length,
      charts: charts.length,
      bars: bars.length,
      barVisible: bars.length > 0 && bars[0].getBoundingClientRect().height > 0,
      fills,
      barText: bars.map((b) => b.innerText),
      errors: document.querySelectorAll('.output_error, .output_stderr').length,
      errorText: [...document.querySelectorAll('.output_error, .output_stderr')].map((e) => e.innerText.slice(0, 300)),
      pass: (text.match(/REPDYN-VERDICT PASS/g) || []).length,
      fail: (text.match(/REPDYN-VERDICT FAIL/g) || []).length,
      verdictTables: document.querySelectorAll('.repdyn-verdicts').length,
    };
  });
  console.log(JSON.stringify(r, null, 1));
  // What the notebook file promises: its verdict cells, its charts and
  // progress bars (by the calls in its code cells).
  const cells = JSON.parse(fs.readFileSync(path.join(opt.dir, nb), 'utf8')).cells;
  const code = cells.filter((c) => c.cell_type === 'code').map((c) => [].concat(c.source).join(''));
  const verdicts = cells.filter((c) => c.metadata && c.metadata.repdyn && c.metadata.repdyn.verdict).length;
  const wantCharts = code.filter((c) => /ShowChart|\.Show\(\)|NewLive|show\.Images/.test(c)).length;
  const wantBars = code.some((c) => /NewProgress/.test(c));
  check(r.charts >= wantCharts, `${nb}: chart images rendered: ${r.charts} (cells drawing charts: ${wantCharts})`);
  // Progress bars draw while a result is computed (a cached one shows none).
  if (wantBars) check(r.bars >= 1 && r.barVisible, `${nb}: progress bar rendered: ${r.bars}`);
  check(r.fills.every((f) => f > 0.99), `${nb}: progress bars full at the end: ${r.fills}`);
  check(r.errors === 0, `${nb}: no error or stderr output: ${r.errorText.join(' | ')}`);
  check(r.pass >= verdicts && r.fail === 0, `${nb}: verdicts passed: ${r.pass} PASS, ${r.fail} FAIL (verdict cells: ${verdicts})`);
  check(r.verdictTables >= verdicts, `${nb}: verdict tables rendered: ${r.verdictTables}`);

  // Screenshot of the training cell's outputs and of the whole page.
  const bar = page.locator('.repdyn-progress').first();
  if (await bar.count()) await bar.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(opt.out, `${base}-progress.png`) });
  // The classic Notebook scrolls inside #site: let it grow to show every cell.
  await page.evaluate(() => {
    for (const sel of ['html', 'body', '#site']) {
      const e = document.querySelector(sel);
      e.style.height = 'auto';
      e.style.overflow = 'visible';
    }
  });
  await page.screenshot({ path: path.join(opt.out, `${base}-full.png`), fullPage: true });
  await page.evaluate(() => Jupyter.notebook.session.delete());
  await page.close();
  console.log(`screenshots in ${opt.out}`);
  return { seconds, widgets, ...r };
}

// runAllWithWidgets waits until every cell ran. Each show.Explore slider met
// on the way (a range input in a running cell) is moved 20 times; each move
// is timed from the input event to the redrawn chart (the widget's
// data-value changes and its image has loaded), with screenshots before and
// after; then the cell is interrupted, which ends it cleanly, and Run All
// goes on. Returns the measurements, one entry per slider.
async function runAllWithWidgets(page, base) {
  const out = [];
  const deadline = Date.now() + opt.timeoutS * 1000;
  for (;;) {
    const state = await page.waitForFunction(() => {
      const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
      const pending = cells.some((c) => c.input_prompt_number === '*' || c.input_prompt_number === undefined || c.input_prompt_number === null);
      if (!pending && document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null) return 'done';
      const live = [...document.querySelectorAll('.output_area input[type=range]')].filter((e) => !e.dataset.repdynMeasured);
      return live.length > 0 ? 'widget' : false;
    }, null, { timeout: Math.max(1000, deadline - Date.now()), polling: 250 }).then((h) => h.jsonValue());
    if (state === 'done') return out;
    out.push(await measureSlider(page, `${base}-widget${out.length + 1}`));
    await page.evaluate(() => Jupyter.notebook.kernel.interrupt());
  }
}

// measureSlider moves the first unmeasured slider 20 times and times each
// redraw; screenshots NAME-before.png and NAME-after.png.
async function measureSlider(page, name) {
  const handle = await page.evaluateHandle(() => {
    const e = [...document.querySelectorAll('.output_area input[type=range]')].find((x) => !x.dataset.repdynMeasured);
    e.dataset.repdynMeasured = '1';
    return e;
  });
  // The widget's first chart must be there before we move it.
  await page.waitForFunction((s) => s.closest('.output_wrapper').querySelector('.repdyn-explore img'), handle, { timeout: 60000 });
  await handle.evaluate((s) => s.closest('.cell').scrollIntoView());
  await page.screenshot({ path: path.join(opt.out, `${name}-before.png`) });
  const ms = await handle.evaluate(async (s) => {
    const lo = Number(s.min), hi = Number(s.max);
    const area = s.closest('.output_wrapper');
    const times = [];
    let cur = Number(s.value);
    for (let k = 0; k < 20; k++) {
      let v = lo + ((k * 7 + 3) % (hi - lo + 1));
      if (v === cur) v = v === hi ? lo : v + 1;
      cur = v;
      const t0 = performance.now();
      s.value = String(v);
      s.dispatchEvent(new Event('input'));
      await new Promise((resolve, reject) => {
        const limit = t0 + 20000;
        const poll = () => {
          const w = area.querySelector(`.repdyn-explore[data-value="${v}"] img`);
          if (w && w.complete && w.naturalWidth > 0) return resolve();
          if (performance.now() > limit) return reject(new Error(`no redraw for value ${v} in 20 s`));
          requestAnimationFrame(poll);
        };
        poll();
      });
      times.push(performance.now() - t0);
    }
    return times;
  });
  await page.screenshot({ path: path.join(opt.out, `${name}-after.png`) });
  const sorted = [...ms].sort((a, b) => a - b);
  const m = { name, moves: ms.length, median_ms: (sorted[9] + sorted[10]) / 2, worst_ms: sorted[sorted.length - 1], ms };
  console.log(`widget ${name}: ${m.moves} moves, median ${m.median_ms.toFixed(0)} ms, worst ${m.worst_ms.toFixed(0)} ms`);
  check(m.worst_ms < 500, `${name}: every slider move redrawn in < 0.5 s (median ${m.median_ms.toFixed(0)} ms, worst ${m.worst_ms.toFixed(0)} ms)`);
  return m;
}

const results = {};
let exitCode = 0;
try {
  for (const nb of opt.notebook.split(',')) {
    console.log(`--- ${nb}`);
    results[nb] = opt.ui === 'lab' ? await runLabNotebook(context, opt, nb, check) : await runNotebook(nb);
  }
  fs.writeFileSync(path.join(opt.out, opt.ui === 'lab' ? 'browser-result-lab.json' : 'browser-result.json'), JSON.stringify({ ...results, failures }, null, 1));
} catch (e) {
  console.log('FAIL', e.stack || e);
  failures.push(String(e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (failures.length) {
  console.log(`browser test: ${failures.length} failure(s)`);
  exitCode = 1;
} else {
  console.log('browser test passed');
}
process.exit(exitCode);

// Browser test of the repdyn kernel: opens a notebook in the classic Jupyter
// Notebook server (Debian's jupyter-notebook) with Debian's Chromium driven
// by playwright-core, runs all cells, and checks that the chart image and the
// progress bar rendered, no cell failed and every verdict passed. Saves a
// screenshot.
//
//   node test.mjs --url http://127.0.0.1:PORT --token TOKEN \
//     --notebook 00-start-here.ipynb --out DIR [--timeout-s 300]
//
// kernel/ci-test.sh starts the server (on a temporary copy of notebooks/)
// and runs this.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function args() {
  const a = { url: '', token: '', notebook: '00-start-here.ipynb', out: '', timeoutS: 300 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, '');
    if (k === 'url') a.url = v[i + 1];
    else if (k === 'token') a.token = v[i + 1];
    else if (k === 'notebook') a.notebook = v[i + 1];
    else if (k === 'out') a.out = v[i + 1];
    else if (k === 'timeout-s') a.timeoutS = Number(v[i + 1]);
    else throw new Error(`unknown flag ${v[i]}`);
  }
  if (!a.url || !a.out) throw new Error('need --url and --out');
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
let exitCode = 0;
try {
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  const url = `${opt.url}/notebooks/${encodeURIComponent(opt.notebook)}?token=${encodeURIComponent(opt.token)}`;
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  // Wait for the notebook app and a connected, idle kernel.
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected() &&
    document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null, null, { timeout: 60000 });
  const kernelName = await page.evaluate(() => Jupyter.notebook.kernel.name);
  check(kernelName === 'repdyn', `kernel is repdyn (got ${kernelName})`);

  const t0 = Date.now();
  await page.evaluate(() => Jupyter.notebook.execute_all_cells());
  // Done when no code cell is queued or running ('*') and the kernel is idle.
  await page.waitForFunction(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    const pending = cells.some((c) => c.input_prompt_number === '*' || c.input_prompt_number === undefined || c.input_prompt_number === null);
    return !pending && document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
  }, null, { timeout: opt.timeoutS * 1000, polling: 500 });
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
  check(r.charts >= 2, `at least 2 chart images rendered (GEMM chart, training curve): ${r.charts}`);
  check(r.bars >= 1 && r.barVisible, `progress bar rendered: ${r.bars}`);
  check(r.fills.length > 0 && r.fills.every((f) => f > 0.99), `progress bar full at the end: ${r.fills}`);
  check(r.errors === 0, `no error or stderr output: ${r.errorText.join(' | ')}`);
  check(r.pass >= 2 && r.fail === 0, `verdicts passed: ${r.pass} PASS, ${r.fail} FAIL`);
  check(r.verdictTables >= 2, `verdict tables rendered: ${r.verdictTables}`);

  // Screenshot of the training cell's outputs and of the whole page.
  const bar = page.locator('.repdyn-progress').first();
  if (await bar.count()) await bar.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(opt.out, 'notebook-training.png') });
  // The classic Notebook scrolls inside #site: let it grow to show every cell.
  await page.evaluate(() => {
    for (const sel of ['html', 'body', '#site']) {
      const e = document.querySelector(sel);
      e.style.height = 'auto';
      e.style.overflow = 'visible';
    }
  });
  await page.screenshot({ path: path.join(opt.out, 'notebook-full.png'), fullPage: true });
  console.log(`screenshots in ${opt.out}`);
  fs.writeFileSync(path.join(opt.out, 'browser-result.json'), JSON.stringify({ seconds, ...r, failures }, null, 1));
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

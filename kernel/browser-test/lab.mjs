// JupyterLab half of the browser test (test.mjs --ui lab): opens a notebook
// in the JupyterLab that kernel/lab builds from npm (served by Debian's
// jupyterlab-server), runs all cells as a user would (Run > Run All Cells),
// and checks what rendered: charts, progress bars ended full, verdict tables,
// widget sliders connected to the kernel, no error output, every verdict cell
// of the notebook file passed. Saves screenshots (NAME-lab-progress.png,
// NAME-lab-full.png).
import fs from 'node:fs';
import path from 'node:path';

// What a notebook file promises, from its code cells: verdict cells, chart
// cells, progress bars and widgets.
export function expectations(file) {
  const cells = JSON.parse(fs.readFileSync(file, 'utf8')).cells;
  const code = cells.filter((c) => c.cell_type === 'code').map((c) => [].concat(c.source).join(''));
  return {
    codeCells: code.length,
    verdicts: cells.filter((c) => c.metadata && c.metadata.repdyn && c.metadata.repdyn.verdict).length,
    charts: code.filter((c) => /ShowChart|\.Show\(\)|NewLive|show\.Images/.test(c)).length,
    bars: code.some((c) => /NewProgress/.test(c)),
    sliders: code.filter((c) => /widgets\.Slider|\.Slider\(|show\.Explore\(/.test(c)).length,
  };
}

// waitLabReady waits for the application to have started and restored.
async function waitLabReady(page) {
  await page.waitForSelector('body[data-repdyn-lab="ready"]', { state: 'attached', timeout: 90000 });
}

// runLabNotebook runs one notebook in JupyterLab and returns what it measured.
export async function runLabNotebook(context, opt, nb, check) {
  const base = nb.replace(/\.ipynb$/, '');
  const page = await context.newPage();
  page.on('pageerror', (e) => console.log('page error:', e.message));
  // A new workspace per run, so that notebooks of earlier runs do not reopen.
  const ws = `repdyn-test-${Date.now()}`;
  const url = `${opt.url}/lab/workspaces/${ws}/tree/${encodeURIComponent(nb)}?token=${encodeURIComponent(opt.token)}`;
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  await waitLabReady(page);
  // The notebook panel of nb is the current widget once its kernel is idle.
  await page.waitForFunction((nb) => {
    const w = window.jupyterapp.shell.currentWidget;
    const k = w && w.context && w.context.path === nb && w.sessionContext && w.sessionContext.session &&
      w.sessionContext.session.kernel;
    return k && k.connectionStatus === 'connected' && k.status === 'idle';
  }, nb, { timeout: 90000, polling: 250 });
  const kernelName = await page.evaluate(() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.name);
  check(kernelName === 'repdyn', `${nb} (lab): kernel is repdyn (got ${kernelName})`);

  const t0 = Date.now();
  // Run > Run All Cells, by its command.
  await page.evaluate(() => window.jupyterapp.commands.execute('notebook:run-all-cells'));
  const widgets = await runAllWithSliders(page, opt, base, check);
  const seconds = (Date.now() - t0) / 1000;
  console.log(`all cells ran in ${seconds.toFixed(1)} s (lab)`);

  const r = await page.evaluate(() => {
    const w = window.jupyterapp.shell.currentWidget;
    const root = w.content.node;
    const cells = w.content.widgets.filter((c) => c.model.type === 'code');
    const imgs = [...root.querySelectorAll('.jp-OutputArea-output img')];
    const charts = imgs.filter((i) => i.complete && i.naturalWidth > 200 && i.naturalHeight > 100);
    const bars = [...root.querySelectorAll('.repdyn-progress')];
    const fills = bars.map((b) => {
      const f = b.querySelector('.repdyn-progress-fill');
      return f ? f.getBoundingClientRect().width / f.parentElement.getBoundingClientRect().width : 0;
    });
    const errSel = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"], ' +
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]';
    const errs = [...root.querySelectorAll(errSel)];
    const text = root.innerText;
    const sliders = [...root.querySelectorAll('.jp-OutputArea-output input[type="range"]')];
    return {
      executed: cells.filter((c) => typeof c.model.executionCount === 'number').length,
      codeCells: cells.length,
      // Outputs of cells run in this session are trusted: their HTML and
      // scripts (GoNB's widget JavaScript) run.
      trusted: cells.every((c) => c.model.trusted),
      images: imgs.length,
      charts: charts.length,
      bars: bars.length,
      barVisible: bars.length > 0 && bars[0].getBoundingClientRect().height > 0,
      fills,
      errors: errs.length,
      errorText: errs.map((e) => e.innerText.slice(0, 300)),
      pass: (text.match(/REPDYN-VERDICT PASS/g) || []).length,
      fail: (text.match(/REPDYN-VERDICT FAIL/g) || []).length,
      verdictTables: root.querySelectorAll('.repdyn-verdicts').length,
      sliders: sliders.length,
      gonbComm: !!(globalThis.gonb_comm && globalThis.gonb_comm.websocket_is_opened),
    };
  });
  console.log(JSON.stringify(r, null, 1));
  const want = expectations(path.join(opt.dir, nb));
  check(r.executed === want.codeCells, `${nb} (lab): code cells executed: ${r.executed}/${want.codeCells}`);
  check(r.trusted, `${nb} (lab): outputs trusted (HTML scripts run)`);
  check(r.charts >= want.charts, `${nb} (lab): chart images rendered: ${r.charts} (cells drawing charts: ${want.charts})`);
  if (want.bars) check(r.bars >= 1 && r.barVisible, `${nb} (lab): progress bar rendered: ${r.bars}`);
  check(r.fills.every((f) => f > 0.99), `${nb} (lab): progress bars full at the end: ${r.fills}`);
  check(r.errors === 0, `${nb} (lab): no error or stderr output: ${r.errorText.join(' | ')}`);
  check(r.pass >= want.verdicts && r.fail === 0, `${nb} (lab): verdicts passed: ${r.pass} PASS, ${r.fail} FAIL (verdict cells: ${want.verdicts})`);
  check(r.verdictTables >= want.verdicts, `${nb} (lab): verdict tables rendered: ${r.verdictTables}`);
  if (want.sliders) {
    check(r.sliders >= want.sliders, `${nb} (lab): widget sliders rendered: ${r.sliders} (cells with sliders: ${want.sliders})`);
    check(r.gonbComm, `${nb} (lab): GoNB widget connection (gonb_comm) open`);
  }

  // Screenshots: the first progress bar, then the whole notebook (the
  // viewport is stretched to the notebook's height: JupyterLab scrolls
  // inside its panel).
  const bar = page.locator('.repdyn-progress').first();
  if (await bar.count()) await bar.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(opt.out, `${base}-lab-progress.png`) });
  await fullScreenshot(page, path.join(opt.out, `${base}-lab-full.png`));
  await page.evaluate(() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown());
  await page.close();
  return { seconds, widgets, ...r };
}

// runAllWithSliders waits until every cell ran: no cell queued or running
// ([*]) and the kernel idle for three polls in a row. A slider in a running
// cell (a live widget cell such as show.Explore) is moved 5 times on the way
// (each move must redraw the cell's .repdyn-explore chart for that value,
// when the cell draws one), then the cell is interrupted and Run All goes on.
async function runAllWithSliders(page, opt, base, check) {
  const out = [];
  const deadline = Date.now() + opt.timeoutS * 1000;
  for (;;) {
    const state = await page.waitForFunction(() => {
      const w = window.jupyterapp.shell.currentWidget;
      const prompts = [...w.node.querySelectorAll('.jp-InputPrompt')];
      const busy = prompts.some((p) => p.textContent.includes('*'));
      const idle = w.sessionContext.session.kernel.status === 'idle';
      window.__repdynIdle = !busy && idle ? (window.__repdynIdle || 0) + 1 : 0;
      if (window.__repdynIdle >= 3) return 'done';
      const live = [...w.node.querySelectorAll('.jp-OutputArea-output input[type="range"]')].filter((e) => {
        const cell = e.closest('.jp-CodeCell');
        const p = cell && cell.querySelector('.jp-InputPrompt');
        return !e.dataset.repdynMeasured && p && p.textContent.includes('*');
      });
      return live.length > 0 ? 'widget' : false;
    }, null, { timeout: Math.max(1000, deadline - Date.now()), polling: 500 }).then((h) => h.jsonValue());
    if (state === 'done') return out;
    out.push(await moveSlider(page, opt, `${base}-lab-widget${out.length + 1}`, check));
    await page.evaluate(() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.interrupt());
  }
}

// moveSlider moves the first unmeasured live slider 5 times, timing each
// redraw of the cell's chart; screenshot NAME.png after.
async function moveSlider(page, opt, name, check) {
  const handle = await page.evaluateHandle(() => {
    const e = [...document.querySelectorAll('.jp-OutputArea-output input[type="range"]')].find((x) => !x.dataset.repdynMeasured);
    e.dataset.repdynMeasured = '1';
    return e;
  });
  await handle.evaluate((s) => s.closest('.jp-CodeCell').scrollIntoView());
  const ms = await handle.evaluate(async (s) => {
    const cell = s.closest('.jp-CodeCell');
    const lo = Number(s.min), hi = Number(s.max);
    const times = [];
    let cur = Number(s.value);
    for (let k = 0; k < 5; k++) {
      let v = lo + ((k * 7 + 3) % (hi - lo + 1));
      if (v === cur) v = v === hi ? lo : v + 1;
      cur = v;
      const t0 = performance.now();
      s.value = String(v);
      s.dispatchEvent(new Event('input'));
      s.dispatchEvent(new Event('change'));
      if (!cell.querySelector('.repdyn-explore')) continue;
      await new Promise((resolve, reject) => {
        const poll = () => {
          const img = cell.querySelector(`.repdyn-explore[data-value="${v}"] img`);
          if (img && img.complete && img.naturalWidth > 0) return resolve();
          if (performance.now() > t0 + 20000) return reject(new Error(`no redraw for value ${v} in 20 s`));
          requestAnimationFrame(poll);
        };
        poll();
      });
      times.push(performance.now() - t0);
    }
    return times;
  }).catch((e) => { check(false, `${name}: ${e.message}`); return []; });
  await page.screenshot({ path: path.join(opt.out, `${name}.png`) });
  const sorted = [...ms].sort((a, b) => a - b);
  const m = { name, moves: ms.length, median_ms: sorted[Math.floor(sorted.length / 2)], worst_ms: sorted[sorted.length - 1], ms };
  console.log(`widget ${name}: ${ms.length} timed moves, median ${m.median_ms} ms, worst ${m.worst_ms} ms`);
  return m;
}

// fullScreenshot grows the viewport to the current notebook's full height
// (at most 30000 pixels), takes the screenshot and restores the viewport.
export async function fullScreenshot(page, file) {
  const vp = page.viewportSize();
  const h = await page.evaluate(() => {
    const nb = window.jupyterapp.shell.currentWidget.content;
    const n = nb.node;
    n.scrollTop = 0;
    // The bottom of the last cell, not scrollHeight: JupyterLab adds room to
    // scroll past the end.
    const last = nb.widgets[nb.widgets.length - 1].node;
    const bottom = last.getBoundingClientRect().bottom - n.getBoundingClientRect().top + n.scrollTop;
    return bottom + (window.innerHeight - n.clientHeight) + 40;
  });
  await page.setViewportSize({ width: vp.width, height: Math.ceil(Math.min(Math.max(h, vp.height), 30000)) });
  await page.waitForTimeout(500);
  await page.screenshot({ path: file });
  await page.setViewportSize(vp);
}

// A student's pass through one graded assignment in a real browser: opens the
// RELEASED c3-pl-rate notebook (as `nbgrader generate_assignment` makes it) in
// the classic Notebook server with Chromium (playwright-core), types a wrong
// plRatio into its solution cell as a student might (sigma_max instead of
// sigma_min+), runs the setup, solution and test cells, and checks that the
// test cell fails with a hint; then types the right answer, runs them again and
// checks that the test passes. Saves a screenshot of each state.
//
//   node student.mjs --url http://127.0.0.1:PORT --token TOKEN --notebook PATH_UNDER_SERVER --out DIR
//
// kernel/ci-test.sh writes the released notebook into the server's folder and
// runs this.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const a = { url: '', token: '', notebook: '', out: '' };
const v = process.argv.slice(2);
for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
if (!a.url || !a.notebook || !a.out) throw new Error('need --url, --notebook and --out');
fs.mkdirSync(a.out, { recursive: true });

// What the student types into the solution cell of exercise 1 (the released
// cell holds the function's signature around the stub).
const body = (sigma) => `// plRatio returns ||J^T r||^2 / (sigma_min+^2 ||r||^2) at cut-off tau.
func plRatio(J *theory.Jacobian, r []float64, tau float64) float64 {
	sv := lesson.Must(linalg.SVDOf(J.Data, J.N, J.D))
	s := ${sigma}
	g := J.TMatVec(r)
	return lesson.Dot(g, g) / (s * s * lesson.Dot(r, r))
}`;
const wrong = body('sv.Singular[0]');
const right = body('sv.SmallestKept(tau)');

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'repdyn-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 1000 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

// runCells runs the cells with these grade ids, in order, and waits for each.
async function runCells(page, ids) {
  for (const id of ids) {
    await page.evaluate((gid) => {
      const cells = Jupyter.notebook.get_cells();
      const i = cells.findIndex((c) => c.metadata.nbgrader && c.metadata.nbgrader.grade_id === gid);
      if (i < 0) throw new Error(`no cell ${gid}`);
      Jupyter.notebook.select(i);
      Jupyter.notebook.execute_cell_and_select_below();
    }, id);
    await page.waitForFunction((gid) => {
      const c = Jupyter.notebook.get_cells().find((x) => x.metadata.nbgrader && x.metadata.nbgrader.grade_id === gid);
      return c.input_prompt_number !== '*' && c.input_prompt_number !== undefined && c.input_prompt_number !== null &&
        document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null;
    }, id, { timeout: 300000, polling: 250 });
  }
}

async function outputOf(page, gid) {
  return page.evaluate((id) => {
    const c = Jupyter.notebook.get_cells().find((x) => x.metadata.nbgrader && x.metadata.nbgrader.grade_id === id);
    return c.element[0].querySelector('.output_wrapper').innerText;
  }, gid);
}

async function shoot(page, gid, file) {
  await page.evaluate((id) => {
    const c = Jupyter.notebook.get_cells().find((x) => x.metadata.nbgrader && x.metadata.nbgrader.grade_id === id);
    c.element[0].scrollIntoView({ block: 'start' });
    document.querySelector('#site').scrollBy(0, -260);
  }, gid);
  await page.screenshot({ path: path.join(a.out, file) });
}

try {
  const page = await context.newPage();
  const url = `${a.url}/notebooks/${a.notebook.split('/').map(encodeURIComponent).join('/')}?token=${encodeURIComponent(a.token)}`;
  await page.goto(url, { waitUntil: 'load', timeout: 60000 });
  await page.waitForFunction(() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel &&
    Jupyter.notebook.kernel.is_connected() &&
    document.querySelector('#kernel_indicator_icon.kernel_idle_icon') !== null, null, { timeout: 60000 });
  const stub = await page.evaluate(() => Jupyter.notebook.get_cells()
    .find((c) => c.metadata.nbgrader && c.metadata.nbgrader.grade_id === 'ex1-solution').get_text());
  check(/YOUR CODE HERE/.test(stub) && !/SmallestKept/.test(stub), 'released solution cell holds the stub, not the solution');
  const setText = (text) => page.evaluate((t) => {
    Jupyter.notebook.get_cells().find((c) => c.metadata.nbgrader && c.metadata.nbgrader.grade_id === 'ex1-solution').set_text(t);
  }, text);

  await setText(wrong);
  const t0 = Date.now();
  await runCells(page, ['setup', 'ex1-solution', 'ex1-test-library']);
  const failing = await outputOf(page, 'ex1-test-library');
  check(/FAIL/.test(failing) && /hint:/.test(failing), `a wrong answer fails with a hint: ${failing.replace(/\s+/g, ' ').slice(0, 300)}`);
  await shoot(page, 'ex1-test-library', 'student-c3-failing-with-hint.png');

  await setText(right);
  await runCells(page, ['ex1-solution', 'ex1-test-library', 'ex1-test-hidden']);
  const passing = await outputOf(page, 'ex1-test-library');
  check(/REPDYN-VERDICT PASS/.test(passing) && !/hint:/.test(passing), `the corrected answer passes: ${passing.replace(/\s+/g, ' ').slice(0, 200)}`);
  check(/REPDYN-VERDICT PASS/.test(await outputOf(page, 'ex1-test-hidden')), 'the second test cell of exercise 1 passes');
  await shoot(page, 'ex1-test-library', 'student-c3-passing.png');
  console.log(`student pass: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await page.evaluate(() => Jupyter.notebook.session.delete());
} catch (e) {
  console.log('FAIL', e.stack || e);
  failures.push(String(e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(failures.length ? `student test: ${failures.length} failure(s)` : 'student test passed');
process.exit(failures.length ? 1 : 0);

"""Jupyter protocol tests of the repdyn kernel (GoNB + the repdyn library).

Run by kernel/ci-test.sh with Debian's python3 and python3-jupyter-kernel-test,
after the kernel is installed where JUPYTER_PATH points:

    JUPYTER_PATH=/tmp/x /usr/bin/python3 -m unittest -v kernel/tests/test_protocol.py

Besides jupyter_kernel_test's checks (kernel info, execution, stdout, stderr,
display data, completion, errors) it checks the repdyn specifics: library
imports, in-place display updates, interrupt -> checkpoint -> resume, and the
timing targets (first cell of a fresh kernel < 3 s, warm library cell < 1.5 s;
asserted strictly with REPDYN_TIMING_STRICT=1, else only a 3x miss fails).

With REPDYN_JUPYTER_SERVER=URL (and REPDYN_JUPYTER_TOKEN, and
REPDYN_JUPYTER_RUNTIME, the server's JUPYTER_RUNTIME_DIR) the kernels are
started by that running Jupyter server (e.g. the JupyterLab of kernel/lab)
through its REST API, as JupyterLab starts them, and interrupted and shut
down through it; the tests then talk to the kernel the server started.
REPDYN_JUPYTER_SERVER_LOG names the server's log for the stderr check.
"""

import json
import os
import re
import shutil
import tempfile
import time
import unittest
import urllib.request
from queue import Empty

import jupyter_kernel_test
from jupyter_client.blocking import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import start_new_kernel

KERNEL = os.environ.get("REPDYN_KERNEL_NAME", "repdyn")
RESULTS = os.environ.get("REPDYN_TEST_OUT")

# Cells take a Go build each: allow more than the library's 15 s default.
jupyter_kernel_test.TIMEOUT = 60

SERVER = os.environ.get("REPDYN_JUPYTER_SERVER", "").rstrip("/")
TOKEN = os.environ.get("REPDYN_JUPYTER_TOKEN", "")
RUNTIME = os.environ.get("REPDYN_JUPYTER_RUNTIME", "")
SERVER_LOG = os.environ.get("REPDYN_JUPYTER_SERVER_LOG", "")


class ServerKernel:
    """A kernel started by a running Jupyter server (POST /api/kernels), with
    the KernelManager methods the tests use, through the server's REST API."""

    def __init__(self, name):
        self.kernel_spec = KernelSpecManager().get_kernel_spec(name)
        self.id = self._call("POST", "/api/kernels", {"name": name})["id"]
        conn = os.path.join(RUNTIME, "kernel-%s.json" % self.id)
        deadline = time.time() + 30
        while not os.path.exists(conn):
            if time.time() > deadline:
                raise AssertionError("the server wrote no connection file %s" % conn)
            time.sleep(0.1)
        self.client = BlockingKernelClient()
        self.client.load_connection_file(conn)
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def _call(self, method, path, body=None):
        req = urllib.request.Request(SERVER + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "token " + TOKEN,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
        return json.loads(data) if data else None

    def interrupt_kernel(self):
        self._call("POST", "/api/kernels/%s/interrupt" % self.id)

    def shutdown_kernel(self, now=False, restart=False):
        self._call("DELETE", "/api/kernels/%s" % self.id)


def start_kernel(**kwargs):
    """(manager, client) of a new kernel: started by the server when
    REPDYN_JUPYTER_SERVER is set, else by jupyter_client here."""
    if SERVER:
        k = ServerKernel(KERNEL)
        return k, k.client
    return start_new_kernel(kernel_name=KERNEL, **kwargs)


class RepdynKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL
    language_name = "go"
    file_extension = ".go"

    code_hello_world = '%%\nfmt.Println("hello, world")'
    code_stderr = '%%\nfmt.Fprintln(os.Stderr, "to stderr")'
    code_display_data = [
        {"code": 'import "repdyn/notebook/show"\n\n%%\nshow.HTML("<b>bold</b>")', "mime": "text/html"},
        {"code": '%%\nshow.Markdown("$x^2$")', "mime": "text/markdown"},
        {"code": '%%\nc := show.NewChart("t", "x", "y")\nc.Add("s", 1, 2)\nc.Add("s", 2, 3)\nif err := c.Show(); err != nil { panic(err) }',
         "mime": "image/png"},
    ]
    completion_samples = [{"text": "fmt.Print"}]

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_kernel()

    def run_cell(self, code, timeout=120):
        """Executes code; returns (reply, outputs) with outputs the iopub messages."""
        kc = self.kc
        self.flush_channels()
        msg_id = kc.execute(code)
        outputs = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
            outputs.append(msg)
        reply = kc.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=timeout)
        return reply, outputs

    @staticmethod
    def stdout(outputs):
        return "".join(m["content"]["text"] for m in outputs
                       if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")

    def test_error_reply(self):
        # GoNB sends the panic's stderr and an HTML view besides the error
        # message, so jupyter_kernel_test's one-output test_error does not fit.
        reply, out = self.run_cell('%%\npanic("boom")')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertTrue(any(m["msg_type"] == "error" for m in out), [m["msg_type"] for m in out])
        text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
        self.assertIn("boom", text)

    def test_completion_finds_println(self):
        # gopls may need a moment to load the workspace the first time.
        self.run_cell('import "fmt"\n\n%%\nfmt.Println("warm")')
        code = 'import "fmt"\n\nfunc f() { fmt.Print'
        matches = []
        for _ in range(20):
            msg_id = self.kc.complete(code, len(code))
            reply = self.get_non_kernel_info_reply(timeout=60)
            self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
            matches = reply["content"]["matches"]
            if matches:
                break
            time.sleep(1)
        self.assertTrue(any(m.startswith("Println") or m.endswith("Println") for m in matches), matches)

    def test_library_cell_and_verdict(self):
        reply, out = self.run_cell(
            'import (\n\t"repdyn/lib/cpuinfo"\n\t"repdyn/notebook/show"\n)\n\n%%\n'
            'r := cpuinfo.Get()\nshow.NewVerdicts("kernel").Add("threads", float64(r.Threads), ">=", 1).Assert()')
        self.assertEqual(reply["content"]["status"], "ok", out)
        self.assertIn("REPDYN-VERDICT PASS: kernel", self.stdout(out))
        reply, out = self.run_cell('%%\nshow.NewVerdicts("must fail").Add("x", 2, "<", 1).Assert()')
        self.assertEqual(reply["content"]["status"], "error")
        self.assertIn("REPDYN-VERDICT FAIL: must fail", self.stdout(out))

    def test_progress_updates_in_place(self):
        reply, out = self.run_cell(
            'import "repdyn/notebook/show"\n\n%%\np := show.NewProgress("steps", 20)\np.Every = 0\n'
            'for i := 0; i < 20; i++ { time.Sleep(5 * time.Millisecond); p.Inc(show.M("loss", 1/float64(i+1))) }\np.Done("")')
        self.assertEqual(reply["content"]["status"], "ok", out)
        first = [m for m in out if m["msg_type"] == "display_data"]
        updates = [m for m in out if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(first), 1, [m["msg_type"] for m in out])
        self.assertGreaterEqual(len(updates), 10)
        ids = {m["content"]["transient"]["display_id"] for m in first + updates}
        self.assertEqual(len(ids), 1)
        self.assertIn("20/20", updates[-1]["content"]["data"]["text/html"])

    def test_interrupt_checkpoint_resume(self):
        """Jupyter's interrupt stops lib/train at the next step with a checkpoint; re-running resumes."""
        cache = tempfile.mkdtemp(prefix="repdyn-interrupt-test-")
        self.addCleanup(shutil.rmtree, cache, True)
        # The cell also draws a progress bar, to check that displays after the
        # interrupt (the final bar) still go through and do not block.
        cell = ('import (\n\t"context"\n\t"errors"\n\t"repdyn/lib/experiment"\n\t"repdyn/lib/train"\n\t"repdyn/notebook/show"\n)\n\n%%\n'
                's := experiment.Default()\n'
                's.Model, s.Dataset, s.Width, s.Subset, s.TestSubset, s.Epochs, s.Batch = "mlp", "synthetic", 0.05, 400, 256, 8, 8\n'
                'r, err := experiment.Open(s, CACHE_DIR, experiment.Options{Mode: experiment.Resume})\n'
                'if err != nil { panic(err) }\nfmt.Println("start", r.Resumed)\n'
                'view := show.AttachTraining(r.Trainer, "slow")\n'
                'r.Trainer.AddCallback(train.Callback{OnStep: func(si *train.StepInfo) error { time.Sleep(25 * time.Millisecond); if si.Step == r.Resumed+1 { fmt.Println("running") }; return nil }})\n'
                'ctx, stop := train.SignalContext(context.Background())\ndefer stop()\n'
                'out, err := r.Run(ctx)\nview.Done(err)\n'
                'if errors.Is(err, train.ErrInterrupted) { fmt.Println("STOPPED at step", out.Steps, err); return }\n'
                'if err != nil { panic(err) }\nfmt.Println("FINISHED", out.Steps)').replace("CACHE_DIR", json.dumps(cache))
        kc = self.kc
        self.flush_channels()
        msg_id = kc.execute(cell)
        saw_running = False
        deadline = time.time() + 60
        text = ""
        while time.time() < deadline and not saw_running:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                text += msg["content"]["text"]
                saw_running = "running" in text
        self.assertTrue(saw_running, text)
        time.sleep(0.5)
        t0 = time.time()
        self.km.interrupt_kernel()
        while time.time() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        stop_s = time.time() - t0
        m = re.search(r"STOPPED at step (\d+) training interrupted", text)
        self.assertTrue(m, text)
        self.assertLess(stop_s, 4.5, "the cell must stop before GoNB's 5 s kill")
        self.assertTrue(os.path.exists(os.path.join(cache, "last.safetensors")))
        saved = int(m.group(1))
        self.assertGreater(saved, 0)
        self.assertLess(saved, 400)
        reply, out = self.run_cell(cell)
        self.assertEqual(reply["content"]["status"], "ok", out)
        self.assertIn("start %d" % saved, self.stdout(out))
        self.assertIn("FINISHED 400", self.stdout(out))
        _record("interrupt_stop_seconds", round(stop_s, 3))


class KernelStart(unittest.TestCase):
    """The kernelspec starts GoNB with no fake error line on stderr and with
    PATH extended (the kernel's tools and Go first), not replaced."""

    def test_stderr_and_path(self):
        marker = tempfile.mkdtemp(prefix="repdyn-path-marker-")
        self.addCleanup(shutil.rmtree, marker, True)
        env = dict(os.environ, PATH=marker + os.pathsep + os.environ.get("PATH", os.defpath))
        if SERVER:
            # The server's PATH is the one this test was started with.
            marker = os.environ.get("PATH", os.defpath).split(os.pathsep)[0]
        log_start = os.path.getsize(SERVER_LOG) if SERVER_LOG else 0
        with tempfile.TemporaryFile(mode="w+") as err:
            km, kc = start_kernel(env=env, stderr=err)
            try:
                out = []
                reply = kc.execute_interactive('%%\nfmt.Println("PATH=" + os.Getenv("PATH"))', timeout=120,
                                               output_hook=lambda m: out.append(m))
                self.assertEqual(reply["content"]["status"], "ok", reply["content"])
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            err.seek(0)
            stderr = err.read()
        if SERVER_LOG:
            with open(SERVER_LOG, errors="replace") as f:
                f.seek(log_start)
                stderr += f.read()
        self.assertNotIn("Error message", stderr, "GoNB's start-up test line reached the server's stderr")
        text = "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")
        path = text.split("PATH=", 1)[-1].strip().split(os.pathsep)
        spec = km.kernel_spec
        first = spec.env["REPDYN_KERNEL_PATH"].split(os.pathsep)
        self.assertEqual(path[:len(first)], first, "the kernel's tools and Go come first")
        self.assertIn(marker, path, "the server's PATH is kept")


WARM_CELL = ('import (\n\t"math"\n\t"repdyn/lib/cpuinfo"\n\t"repdyn/notebook/show"\n)\n\n%%\n'
             'r := cpuinfo.Get()\nc := show.NewChart("warm", "x", "y")\n'
             'for i := 0; i < 50; i++ { c.Add("sin", float64(i), math.Sin(float64(i)/5)) }\n'
             'if err := c.Show(); err != nil { panic(err) }\nfmt.Println("level", r.Selected)')


def _record(name, value):
    if RESULTS:
        os.makedirs(RESULTS, exist_ok=True)
        path = os.path.join(RESULTS, "timings.json")
        data = {}
        if os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
        data[name] = value
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
    print("TIMING %s = %s" % (name, value))


class Timing(unittest.TestCase):
    """First cell of a fresh kernel (< 3 s, kernel start included) and warm cells (< 1.5 s)."""

    def _exec(self, kc, code):
        t0 = time.time()
        reply = kc.execute_interactive(code, timeout=120, output_hook=lambda m: None)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        return time.time() - t0

    def test_timing(self):
        t0 = time.time()
        km, kc = start_kernel()
        try:
            start_s = time.time() - t0
            first = self._exec(kc, WARM_CELL)
            warm = sorted(self._exec(kc, WARM_CELL) for _ in range(3))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        _record("kernel_start_seconds", round(start_s, 3))
        _record("first_cell_seconds", round(first, 3))
        _record("first_cell_including_kernel_start_seconds", round(start_s + first, 3))
        _record("warm_cell_seconds_median", round(warm[1], 3))
        _record("load_average_1min", os.getloadavg()[0])
        first_total = start_s + first
        print("TARGET first cell of a fresh kernel < 3 s: %s (%.2f s)" % ("met" if first_total < 3 else "MISSED", first_total))
        print("TARGET warm library cell < 1.5 s: %s (%.2f s)" % ("met" if warm[1] < 1.5 else "MISSED", warm[1]))
        # The targets are asserted as such with REPDYN_TIMING_STRICT=1; by
        # default only a 3x miss fails, so that a loaded CI machine is not flaky.
        slack = 1.0 if os.environ.get("REPDYN_TIMING_STRICT") == "1" else 3.0
        self.assertLess(first_total, 3.0 * slack, "first cell of a fresh kernel, kernel start included")
        self.assertLess(warm[1], 1.5 * slack, "warm cell using the library (median of 3)")


if __name__ == "__main__":
    unittest.main()

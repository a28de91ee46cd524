"""JupyterLab for the repdyn kernel without PyPI.

The front end is JupyterLab built from its official npm packages (pinned in
package.json and package-lock.json beside this file; `build.sh` builds it
into build/). This module serves that build with Debian's jupyter-server and
jupyterlab-server (LabServerApp), so `jupyter lab` works on a machine that
has only Debian packages:

    python3 kernel/lab/repdyn_lab.py [jupyter-server flags]

or, after install.sh has put the `jupyter-lab` launcher on PATH,

    jupyter lab --ServerApp.root_dir=notebooks

MathJax 2 (LaTeX in Markdown and outputs) comes from Debian's libjs-mathjax
(a dependency of jupyter-notebook) and is served under static/repdyn-mathjax.
User settings and workspaces live where JupyterLab keeps them
(JUPYTER_CONFIG_DIR/lab, default ~/.jupyter/lab).
"""

import json
import os
import sys

from jupyter_core.paths import jupyter_config_dir
from jupyter_server.base.handlers import APIHandler
from jupyterlab_server import LabServerApp
from tornado import web
from tornado.web import StaticFileHandler

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("REPDYN_LAB_BUILD") or os.path.join(HERE, "build")
MATHJAX_DIRS = ["/usr/share/javascript/mathjax", "/usr/share/mathjax"]


def _version():
    with open(os.path.join(HERE, "package.json"), encoding="utf-8") as f:
        return json.load(f)["version"]


def _mathjax_dir():
    for d in MATHJAX_DIRS:
        if os.path.isfile(os.path.join(d, "MathJax.js")):
            return d
    return None


class IdentityHandler(APIHandler):
    """GET /api/me: who is logged in, the identity API that JupyterLab 3.6's
    front end asks for (jupyter-server 2 has it, Debian's 1.23 does not)."""

    @web.authenticated
    def get(self):
        user = self.current_user
        name = user if isinstance(user, str) else getattr(user, "username", "") or "anonymous"
        initials = "".join(w[0] for w in name.replace("-", " ").split()[:2]).upper() or "?"
        self.finish(json.dumps({
            "identity": {"username": name, "name": name, "display_name": name,
                         "initials": initials, "avatar_url": None, "color": None},
            "permissions": {},
        }))


def _jupyter_server_extension_points():
    return [{"module": "repdyn_lab", "app": RepdynLab}]


class RepdynLab(LabServerApp):
    """JupyterLab (the npm build in build/) on Debian's jupyterlab-server."""

    name = "repdyn_lab"
    extension_url = "/lab"
    default_url = "/lab"
    app_name = "JupyterLab"
    description = "JupyterLab for the repdyn kernel (front end built from npm, served by jupyterlab-server)"
    load_other_extensions = False
    file_url_prefix = "/lab/tree"

    version = app_version = _version()
    app_settings_dir = os.path.join(BUILD, "application_settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    themes_dir = os.path.join(BUILD, "themes")
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    user_settings_dir = os.path.join(jupyter_config_dir(), "lab", "user-settings")
    workspaces_dir = os.path.join(jupyter_config_dir(), "lab", "workspaces")

    def initialize_settings(self):
        super().initialize_settings()
        mathjax = _mathjax_dir()
        if mathjax:
            # Relative URLs get the server's base_url prefixed.
            self.settings["mathjax_url"] = "static/repdyn-mathjax/MathJax.js"
        else:
            self.log.warning("MathJax not found in %s (apt-get install libjs-mathjax): "
                             "LaTeX will not render", " or ".join(MATHJAX_DIRS))

    def initialize_handlers(self):
        super().initialize_handlers()
        mathjax = _mathjax_dir()
        if mathjax:
            self.handlers.append((r"/static/repdyn-mathjax/(.*)", StaticFileHandler, {"path": mathjax}))
        self.handlers.append((r"/api/me", IdentityHandler))


def main():
    if not os.path.isfile(os.path.join(BUILD, "bundle.js")):
        sys.exit("jupyter-lab: the JupyterLab front end is not built (%s has no bundle.js): "
                 "run %s" % (BUILD, os.path.join(HERE, "build.sh")))
    RepdynLab.launch_instance()


if __name__ == "__main__":
    # The server imports its extension by module name: run the importable
    # copy of this file, not __main__.
    sys.path.insert(0, HERE)
    import repdyn_lab

    repdyn_lab.main()

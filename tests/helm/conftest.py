"""Set-up shared by the chart tests.

helm/tools is not a package: its scripts are run as files, and imported by these tests. This
folder is a package (so this file does not replace tests/conftest.py, whose names other tests
import), and its helpers are imported by their plain names too.

KubeSpawner reads the kubeconfig when it is made (``_mock=True`` or not): every test here
gets one whose server is a loopback port nothing listens on, so no cluster is ever used.
kubernetes_asyncio takes $KUBECONFIG's value when it is first imported, so it is set once for
the session, before that.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "helm" / "tools"))
# The chart tests' own helpers (helmchart, netpol, ...) are imported by their plain names.
sys.path.insert(0, str(Path(__file__).resolve().parent))

_KUBECONFIG = Path(tempfile.mkdtemp(prefix="soc-workspace-kubeconfig-")) / "config"
_KUBECONFIG.write_text(
    json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "none", "cluster": {"server": "https://127.0.0.1:9"}}],
            "users": [{"name": "none", "user": {"token": "unused"}}],
            "contexts": [{"name": "none", "context": {"cluster": "none", "user": "none"}}],
            "current-context": "none",
        }
    )
)
os.environ["KUBECONFIG"] = str(_KUBECONFIG)
if "kubernetes_asyncio.config.kube_config" in sys.modules:
    sys.modules["kubernetes_asyncio.config.kube_config"].KUBE_CONFIG_DEFAULT_LOCATION = str(
        _KUBECONFIG
    )

# soc-workspace's IPython settings for every kernel of the notebook image (installed as
# /etc/ipython/ipython_config.py, which all environments read).
import os

# The history is an SQLite database: keep it in the pod-local directory, not in the home
# directory (SQLite locks and corrupts on NFS).
_local_dir = os.environ.get("SOC_WORKSPACE_LOCAL_DIR", "/tmp/jupyter")
os.makedirs(_local_dir, exist_ok=True)
c.HistoryManager.hist_file = os.path.join(_local_dir, "ipython_history.sqlite")  # noqa: F821

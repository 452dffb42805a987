# soc-workspace's Jupyter server settings for the notebook image (read from the environment's
# etc/jupyter). The hub sets the variables below per user server (soc_workspace.kubernetes).
import os

# Jupyter's SQLite files live in a pod-local directory, never in the home directory: SQLite
# locks and corrupts on the NFS volumes homes and team folders often are.
local_dir = os.environ.get("SOC_WORKSPACE_LOCAL_DIR", "/tmp/jupyter")
os.makedirs(local_dir, exist_ok=True)
c.NotebookNotary.db_file = os.path.join(local_dir, "nbsignatures.db")  # noqa: F821
c.SessionManager.database_filepath = ":memory:"  # noqa: F821

# Only the mission kernels of the user's profile (python3 is always there).
kernels = os.environ.get("SOC_WORKSPACE_KERNELS")
if kernels is not None:
    c.KernelSpecManager.allowed_kernelspecs = {  # noqa: F821
        "python3",
        *(name.strip() for name in kernels.split(",") if name.strip()),
    }

# Shut down kernels nobody has used for a while, so an idle server can be culled.
idle = int(os.environ.get("SOC_WORKSPACE_KERNEL_IDLE_TIMEOUT", "0"))
if idle > 0:
    c.MappingKernelManager.cull_idle_timeout = idle  # noqa: F821
    c.MappingKernelManager.cull_interval = min(300, idle)  # noqa: F821
    c.MappingKernelManager.cull_connected = False  # noqa: F821

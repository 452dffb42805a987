# soc-workspace's hub configuration on Kubernetes. The jupyterhub chart's jupyterhub_config.py
# runs this file (mounted in jupyterhub_config.d) after its own configuration, with `c` in
# scope. Everything is decided by soc_workspace (in the hub image), from the settings this
# chart mounts at /etc/soc-workspace: the same code the one-machine workspace runs.
from soc_workspace.kubernetes import configure_hub

configure_hub(c)  # noqa: F821 - `c` is the hub's config, provided by the loader

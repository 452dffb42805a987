"""Kernel start-up for the workspace's notebooks: plots that draw without internet access.

HoloViews (hvplot's engine) and Panel load BokehJS and their own JavaScript from public CDNs
unless told to inline them. The networks the workspace runs on often reach no CDN (SOC
clusters, air-gapped machines, this project's CI), which leaves every plot blank. Importing
holoviews at every kernel start to set its ``inline`` switch would cost half a second per
kernel, so this registers an import hook that sets it when holoviews is first imported.

Users' servers run this file through ``PYTHONSTARTUP``, in every kernel, including mission
kernels without soc_workspace: it uses only the standard library and leaves no names behind.
"""


def _install_soc_workspace_startup() -> None:
    import importlib.abc
    import importlib.util
    import os
    import sys

    os.environ.setdefault("PANEL_INLINE", "true")

    def inline_resources(holoviews):
        holoviews.extension.inline = True  # hvplot's extension subclasses this one

    class HoloViewsHook(importlib.abc.MetaPathFinder):
        soc_workspace = True

        def find_spec(self, name, path, target=None):
            if name != "holoviews":
                return None
            sys.meta_path.remove(self)  # once: let the normal finders locate the package
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            original = spec.loader.exec_module

            def exec_module(module):
                original(module)
                inline_resources(module)

            spec.loader.exec_module = exec_module
            return spec

    if "holoviews" in sys.modules:
        inline_resources(sys.modules["holoviews"])
    elif not any(getattr(f, "soc_workspace", False) for f in sys.meta_path):
        sys.meta_path.insert(0, HoloViewsHook())


_install_soc_workspace_startup()
del _install_soc_workspace_startup

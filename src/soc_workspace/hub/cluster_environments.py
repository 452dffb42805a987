"""The gateway option ``environment``: schedulers and workers in a mission environment.

A notebook in a mission kernel (HERMES's stack, say) needs a Dask cluster that runs the same
versions, or the version guard (:mod:`soc_workspace.version_guard`) refuses it. The option
lets the kernel ask for it; ``dask_cluster()`` sets it from a mission kernel. Each deployment
says which environments exist and where their ``dask`` command is: on one machine the
environments ``env create`` built, in the notebook image its kernels (``/opt/kernels``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from dask_gateway_server.backends.base import PublicException

OPTION = "environment"


def with_environment_option(
    options: Any, environments: Callable[[], Mapping[str, str]]
) -> Callable[[Any], Any]:
    """``c.Backend.cluster_options`` plus ``environment`` ("": the deployment's own).

    ``options`` is the deployment's cluster options (an Options object or a function of the
    user, sync or async); ``environments()`` maps each environment's name to the path of its
    ``dask`` command, read when a user asks for options (environments come and go).
    """
    from dask_gateway_server.options import Options, Select

    async def options_for(user: Any) -> Any:
        base = options(user) if callable(options) else options
        if asyncio.iscoroutine(base):
            base = await base
        names = sorted(environments())

        def handler(values: Any, user: Any) -> dict[str, Any]:
            config = dict(base.handler(values, user)) if base.handler else {}
            name = values[OPTION]
            if name:
                dask = environments().get(name)
                if dask is None:  # removed since the options were read
                    raise PublicException(f"no mission environment {name!r} here")
                config["scheduler_cmd"] = [dask, "scheduler"]
                config["worker_cmd"] = [dask, "worker"]
            return config

        return Options(
            *base.fields,
            Select(
                OPTION, ["", *names], default="", label="Environment of the scheduler and workers"
            ),
            handler=handler,
        )

    return options_for

"""What ``soc-workspace check`` runs inside the temporary user's kernel.

The soc_workspace of the user's environment (the notebook image on Kubernetes), called as a
scientist calls it. Each function prints one JSON line the check reads.
"""

from __future__ import annotations

import json


def search_catalog(dataset: str = "") -> None:
    """The last day of files of a dataset (``dataset``, or the first data product with
    files)."""
    import pandas as pd

    import soc_workspace
    from soc_workspace.catalog import list_datasets
    from soc_workspace.catalog.intake import READABLE  # raw telemetry needs calibrating first

    datasets = list_datasets()
    datasets = datasets[datasets["files"] > 0]
    if dataset:
        datasets = datasets[datasets["dataset"] == dataset]
    else:
        datasets = datasets[datasets["filetype"].isin(READABLE)]
    if datasets.empty:
        wanted = dataset or "of data products (CDF, FITS)"
        raise LookupError(f"the catalog lists no dataset {wanted} with files")
    chosen = datasets.iloc[0]
    start = chosen["stop"] - pd.Timedelta(days=1)
    files = soc_workspace.search(dataset=chosen["dataset"], start=start)
    if files.empty:
        raise LookupError(f"{chosen['dataset']} has no file in its last day")
    result = {"dataset": chosen["dataset"], "files": len(files), "url": files["url"].iloc[-1]}
    print(json.dumps(result))


def open_file(url: str) -> None:
    import soc_workspace

    data = soc_workspace.open_dataset(url)
    sizes = {name: int(size) for name, size in data.sizes.items()}
    print(json.dumps({"variables": len(data.data_vars), "sizes": sizes}))


def _variables(url: str) -> int:
    import soc_workspace

    return len(soc_workspace.open_dataset(url).data_vars)


def compute_on_gateway(url: str, workers: int = 2, timeout: float = 300) -> None:
    """A Dask Gateway cluster of ``workers``, each of which reads ``url`` from the store."""
    from dask_gateway import Gateway

    gateway = Gateway()
    cluster = gateway.new_cluster()
    try:
        cluster.scale(workers)
        client = cluster.get_client()
        client.wait_for_workers(workers, timeout=timeout)
        found = client.run(_variables, url)  # on every worker
        print(json.dumps({"workers": len(found), "variables": sorted(set(found.values()))}))
    finally:
        cluster.shutdown()
        gateway.close()

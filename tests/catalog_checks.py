"""Is a bucket's index whole? Asked of our search and of HelioCloud's `cloudcatalog` client."""

from __future__ import annotations

import json
import os

import s3fs

from soc_workspace.catalog import clear_cache, search


def index_problems(
    fs: s3fs.S3FileSystem, bucket: str, dataset: str, expected: set[str], start: str, stop: str
) -> list[str]:
    """How the index of ``bucket`` fails to list exactly ``expected`` (the s3:// URLs of the
    ``dataset`` files between ``start`` and ``stop``, every version); [] when it is whole."""
    import cloudcatalog

    problems = []
    try:
        manifest = json.loads(fs.cat_file(f"{bucket}/catalog/manifest.json"))
        named = [y["parquet"] for e in manifest["datasets"].values() for y in e["years"].values()]
        gone = [p for p in named if not fs.exists(f"{bucket}/{p}")]
        if gone:
            return [f"the manifest names {len(gone)} missing file(s): {gone}"]
        clear_cache()
        ours = set(search(dataset=dataset, start=start, stop=stop, version="all")["url"])
    except Exception as err:  # a failing search is what we report
        problems.append(f"search failed: {type(err).__name__}: {err}")
    else:
        if ours != expected:
            problems.append(
                f"search: lost {sorted(expected - ours)}, extra {sorted(ours - expected)}"
            )
    try:
        endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
        client = cloudcatalog.CloudCatalog(f"s3://{bucket}", endpoint_url=endpoint)
        theirs = set(client.request_cloud_catalog(dataset, start, stop)["datakey"])
    except Exception as err:  # the client failing is what we report
        problems.append(f"cloudcatalog failed: {type(err).__name__}: {err}")
    else:
        if theirs != expected:
            lost, extra = sorted(expected - theirs), sorted(theirs - expected)
            problems.append(f"cloudcatalog (the CSV files): lost {lost}, extra {extra}")
    return problems

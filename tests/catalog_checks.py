"""Is a bucket's index whole? Asked of our search and of HelioCloud's `cloudcatalog` client."""

from __future__ import annotations

import json
import os

from soc_workspace.catalog import clear_cache, locate, search


def index_problems(
    bucket: str, dataset: str, expected: set[str], start: str, stop: str
) -> list[str]:
    """How the index of ``bucket`` fails to list exactly ``expected`` (the s3:// URLs of the
    ``dataset`` files between ``start`` and ``stop``, every version); [] when it is whole.

    HelioCloud's client is asked too when the index is in the bucket, where it looks.
    """
    import cloudcatalog

    problems = []
    location = locate(bucket)
    location.fs.invalidate_cache()  # other processes wrote the index: no cached listings
    try:
        manifest = json.loads(location.fs.cat_file(location.path("catalog/manifest.json")))
        named = [y["parquet"] for e in manifest["datasets"].values() for y in e["years"].values()]
        gone = [p for p in named if not location.fs.exists(location.path(p))]
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
    if not location.in_data_bucket:
        return problems
    try:
        import boto3

        # boto3's default session keeps the first keys it found: each test's store has its own.
        boto3.setup_default_session()
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

"""Access control in the embedded store, over HTTP, with real signed requests.

A real ``soc-workspace store serve`` process; its operator fills it like ``up`` does (pipeline
buckets, a catalog, a scratch bucket with two users' folders); alice and bob get their keys
through the store's IAM API as the workspace hands them out. Then alice, and people without
keys, try what issue 18 found possible (12 of 12 hostile operations succeeded) and more, and
what users must be able to do. Every row checks the store afterwards as the operator: a
refusal that still changed something counts as allowed. The table is printed at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3
import botocore
import pytest
import requests
import s3fs
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from conftest import serve_store

from soc_workspace.config import load_settings
from soc_workspace.store.credentials import Credentials, ensure_user_credentials
from soc_workspace.store.policy import user_policy

pytestmark = pytest.mark.integration

SCRATCH = "soc-workspace-scratch"
EEA_KEY = "l1/unknown/2025/06/01/hermes_eea_l1_20250601T000000_v1.0.0.cdf"
ARCHIVED = b"the pipeline's product"
CATALOG_JSON = b'{"CloudCatalog": "the operator built this"}'
BOBS = b"bob's rerun output"


@dataclass
class Store:
    endpoint: str
    operator: s3fs.S3FileSystem
    keys: dict[str, Credentials]
    state: object
    process: object

    def fs(self, who: str) -> s3fs.S3FileSystem:
        keys = self.keys[who]
        return s3fs.S3FileSystem(
            endpoint_url=self.endpoint,
            key=keys.access_key_id,
            secret=keys.secret_access_key,
            skip_instance_cache=True,
            config_kwargs={"retries": {"max_attempts": 1}},
        )

    def client(self, who: str | None, service: str = "s3") -> object:
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
        if who is None:
            return boto3.client(
                service,
                endpoint_url=self.endpoint,
                region_name="us-east-1",
                config=config.merge(Config(signature_version=botocore.UNSIGNED)),
            )
        keys = self.keys[who]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            region_name="us-east-1",
            config=config,
        )


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    state = tmp_path_factory.mktemp("access-store")
    proc, options = serve_store(state)
    endpoint = options["endpoint_url"]
    operator = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    for bucket in ("hermes-eea", "padre-meddea", SCRATCH):
        operator.mkdir(bucket)
    operator.pipe(f"hermes-eea/{EEA_KEY}", ARCHIVED)
    operator.pipe("padre-meddea/catalog.json", CATALOG_JSON)
    operator.pipe(f"{SCRATCH}/bob/reruns/r1/out.cdf", BOBS)
    operator_keys = Credentials(options["key"], options["secret"])
    settings = load_settings()
    keys = {"operator": operator_keys}
    for user in ("alice", "bob"):
        keys[user] = ensure_user_credentials(
            endpoint, operator_keys, user, user_policy(user, settings), state / f"{user}.json"
        )
    keys["wrong-secret"] = Credentials(keys["alice"].access_key_id, "x" * 40)
    keys["unknown-key"] = Credentials("AKIAUNKNOWNUNKNOWN00", "x" * 40)
    yield Store(endpoint, operator, keys, state, proc)
    proc.terminate()
    proc.wait(timeout=20)


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    who: str | None  # a key's owner, or None: unsigned
    what: str
    act: Callable[[Store], object]
    happened: Callable[[Store], bool]  # did the act take effect? (checked as the operator)


def _exists(store: Store, path: str) -> bool:
    store.operator.invalidate_cache()
    return store.operator.exists(path)


def _content(store: Store, path: str) -> bytes | None:
    try:
        return store.operator.cat(path)
    except FileNotFoundError:
        return None


def _bucket_exists(store: Store, bucket: str) -> bool:
    store.operator.invalidate_cache()
    return bucket in store.operator.ls("", refresh=True)


def _got(expected: bytes) -> Callable[[object], bool]:
    return lambda result: result == expected


HOSTILE = [
    # The 12 of issue 18, as alice with her own keys:
    Case(
        "alice",
        "write a new object into hermes-eea",
        lambda s: s.fs("alice").pipe("hermes-eea/l1/planted.cdf", b"x"),
        lambda s: _exists(s, "hermes-eea/l1/planted.cdf"),
    ),
    Case(
        "alice",
        "overwrite an archived product in hermes-eea",
        lambda s: s.fs("alice").pipe(f"hermes-eea/{EEA_KEY}", b"forged"),
        lambda s: _content(s, f"hermes-eea/{EEA_KEY}") != ARCHIVED,
    ),
    Case(
        "alice",
        "delete an archived product in hermes-eea",
        lambda s: s.client("alice").delete_object(Bucket="hermes-eea", Key=EEA_KEY),
        lambda s: _content(s, f"hermes-eea/{EEA_KEY}") is None,
    ),
    Case(
        "alice",
        "write a catalog index file into padre-meddea",
        lambda s: s.fs("alice").pipe("padre-meddea/catalog/padre_meddea_l1_2025.csv", b"x"),
        lambda s: _exists(s, "padre-meddea/catalog/padre_meddea_l1_2025.csv"),
    ),
    Case(
        "alice",
        "overwrite padre-meddea/catalog.json",
        lambda s: s.fs("alice").pipe("padre-meddea/catalog.json", b"{}"),
        lambda s: _content(s, "padre-meddea/catalog.json") != CATALOG_JSON,
    ),
    Case(
        "alice",
        "delete padre-meddea/catalog.json",
        lambda s: s.client("alice").delete_object(Bucket="padre-meddea", Key="catalog.json"),
        lambda s: _content(s, "padre-meddea/catalog.json") is None,
    ),
    Case(
        "alice",
        "create the bucket dev-hermes-eea",
        lambda s: s.client("alice").create_bucket(Bucket="dev-hermes-eea"),
        lambda s: _bucket_exists(s, "dev-hermes-eea"),
    ),
    Case(
        "alice",
        "create the bucket dev-padre-meddea",
        lambda s: s.client("alice").create_bucket(Bucket="dev-padre-meddea"),
        lambda s: _bucket_exists(s, "dev-padre-meddea"),
    ),
    Case(
        "alice",
        "read bob's scratch file",
        lambda s: s.fs("alice").cat(f"{SCRATCH}/bob/reruns/r1/out.cdf"),
        None,  # set below: reading leaves no trace, the answer is the evidence
    ),
    Case(
        "alice",
        "list bob's scratch folder",
        lambda s: s.client("alice").list_objects_v2(Bucket=SCRATCH, Prefix="bob/")["KeyCount"],
        None,
    ),
    Case(
        "alice",
        "overwrite bob's scratch file",
        lambda s: s.fs("alice").pipe(f"{SCRATCH}/bob/reruns/r1/out.cdf", b"replaced"),
        lambda s: _content(s, f"{SCRATCH}/bob/reruns/r1/out.cdf") != BOBS,
    ),
    Case(
        "alice",
        "delete bob's scratch file",
        lambda s: s.client("alice").delete_object(Bucket=SCRATCH, Key="bob/reruns/r1/out.cdf"),
        lambda s: _content(s, f"{SCRATCH}/bob/reruns/r1/out.cdf") is None,
    ),
    # More ways in, found while building the guard (moto alone let each of these through):
    Case(
        "alice",
        "list the whole scratch bucket",
        lambda s: s.client("alice").list_objects_v2(Bucket=SCRATCH)["KeyCount"],
        None,
    ),
    Case(
        "alice",
        "copy bob's scratch file into her own folder",
        lambda s: s.client("alice").copy_object(
            Bucket=SCRATCH,
            Key="alice/stolen.cdf",
            CopySource={"Bucket": SCRATCH, "Key": "bob/reruns/r1/out.cdf"},
        ),
        lambda s: _exists(s, f"{SCRATCH}/alice/stolen.cdf"),
    ),
    Case(
        "alice",
        "bulk-delete in hermes-eea",
        lambda s: _bulk_delete(s.client("alice"), "hermes-eea", [EEA_KEY]),
        lambda s: _content(s, f"hermes-eea/{EEA_KEY}") is None,
    ),
    Case(
        "alice",
        "bulk-delete her file and bob's together",
        lambda s: _bulk_delete(
            s.client("alice"), SCRATCH, ["alice/mine.txt", "bob/reruns/r1/out.cdf"]
        ),
        lambda s: _content(s, f"{SCRATCH}/bob/reruns/r1/out.cdf") is None,
    ),
    Case(
        "alice",
        "create IAM keys for herself",
        lambda s: s.client("alice", "iam").create_access_key(UserName="alice"),
        lambda s: len(_iam(s).list_access_keys(UserName="alice")["AccessKeyMetadata"]) > 1,
    ),
    Case(
        None,
        "write into hermes-eea unsigned",
        lambda s: s.client(None).put_object(Bucket="hermes-eea", Key="l1/unsigned", Body=b"x"),
        lambda s: _exists(s, "hermes-eea/l1/unsigned"),
    ),
    Case(
        None,
        "read bob's scratch file unsigned",
        lambda s: (
            s.client(None).get_object(Bucket=SCRATCH, Key="bob/reruns/r1/out.cdf")["Body"].read()
        ),
        None,
    ),
    Case(
        "wrong-secret",
        "write into hermes-eea with alice's key id and a wrong secret",
        lambda s: s.client("wrong-secret").put_object(
            Bucket="hermes-eea", Key="l1/wrong-secret", Body=b"x"
        ),
        lambda s: _exists(s, "hermes-eea/l1/wrong-secret"),
    ),
    Case(
        "unknown-key",
        "write into hermes-eea with a made-up key",
        lambda s: s.client("unknown-key").put_object(
            Bucket="hermes-eea", Key="l1/unknown-key", Body=b"x"
        ),
        lambda s: _exists(s, "hermes-eea/l1/unknown-key"),
    ),
    Case(
        "alice",
        "replay a write of hers signed 20 minutes ago",
        lambda s: _signed_long_ago(s, "alice", f"/{SCRATCH}/alice/replayed.txt", b"replayed"),
        lambda s: _exists(s, f"{SCRATCH}/alice/replayed.txt"),
    ),
    Case(
        "alice",
        "read bob's scratch file through a URL she presigned",
        lambda s: _presigned_get(s, f"{SCRATCH}", "bob/reruns/r1/out.cdf"),
        None,
    ),
    Case(
        None,
        "dump the store's state and keys through moto's API",
        lambda s: _moto_api(s, "GET", "/moto-api/data.json"),
        None,
    ),
    Case(
        None,
        "switch authentication off through moto's API",
        lambda s: _moto_api(s, "POST", "/moto-api/reset-auth", data=b"1000"),
        lambda s: _unsigned_write_works(s),
    ),
]
# Reads leave no trace in the store: there, what came back is the evidence.
_READ_EVIDENCE = {
    "read bob's scratch file": _got(BOBS),
    "list bob's scratch folder": lambda n: n > 0,
    "list the whole scratch bucket": lambda n: n > 0,
    "read bob's scratch file unsigned": _got(BOBS),
    "read bob's scratch file through a URL she presigned": _got(BOBS),
    "dump the store's state and keys through moto's API": lambda text: "s3" in text,
}

ALLOWED = [
    Case(
        "alice",
        "read an archived product",
        lambda s: s.fs("alice").cat(f"hermes-eea/{EEA_KEY}"),
        None,
    ),
    Case("alice", "list a pipeline bucket", lambda s: s.fs("alice").ls("hermes-eea/l1"), None),
    Case(
        "alice",
        "check a pipeline bucket exists (HeadBucket)",
        lambda s: s.client("alice").head_bucket(Bucket="hermes-eea"),
        None,
    ),
    Case("alice", "read a catalog", lambda s: s.fs("alice").cat("padre-meddea/catalog.json"), None),
    Case(
        "alice",
        "write her scratch folder",
        lambda s: s.fs("alice").pipe(f"{SCRATCH}/alice/mine.txt", b"mine"),
        lambda s: _content(s, f"{SCRATCH}/alice/mine.txt") == b"mine",
    ),
    Case(
        "alice",
        "write a large file (multipart) into her scratch folder",
        lambda s: _write_in_parts(s.fs("alice"), f"{SCRATCH}/alice/big.bin", b"7" * (11 * 2**20)),
        lambda s: _content(s, f"{SCRATCH}/alice/big.bin") == b"7" * (11 * 2**20),
    ),
    Case(
        "alice",
        "read and list her scratch folder",
        lambda s: (
            s.fs("alice").cat(f"{SCRATCH}/alice/mine.txt"),
            s.fs("alice").ls(f"{SCRATCH}/alice"),
        ),
        None,
    ),
    Case(
        "alice",
        "copy within her scratch folder",
        lambda s: s.fs("alice").copy(f"{SCRATCH}/alice/mine.txt", f"{SCRATCH}/alice/copy.txt"),
        lambda s: _content(s, f"{SCRATCH}/alice/copy.txt") == b"mine",
    ),
    Case(
        "alice",
        "delete a folder of her scratch (bulk delete)",
        lambda s: s.fs("alice").rm([f"{SCRATCH}/alice/copy.txt", f"{SCRATCH}/alice/big.bin"]),
        lambda s: (
            not _exists(s, f"{SCRATCH}/alice/copy.txt")
            and not _exists(s, f"{SCRATCH}/alice/big.bin")
        ),
    ),
    Case(
        "bob",
        "read his own scratch file",
        lambda s: s.fs("bob").cat(f"{SCRATCH}/bob/reruns/r1/out.cdf"),
        None,
    ),
    Case(
        "operator",
        "the operator writes a catalog index file",
        lambda s: s.fs("operator").pipe("padre-meddea/catalog/manifest.json", b"{}"),
        lambda s: _exists(s, "padre-meddea/catalog/manifest.json"),
    ),
]


def _write_in_parts(fs: s3fs.S3FileSystem, path: str, data: bytes) -> None:
    with fs.open(path, "wb", block_size=5 * 2**20) as f:  # 5 MiB parts: a multipart upload
        f.write(data)


def _bulk_delete(client: object, bucket: str, keys: list[str]) -> object:
    answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    if answer.get("Errors"):
        raise PermissionError(answer["Errors"])
    return answer


def _iam(store: Store) -> object:
    return store.client("operator", "iam")


def _signed_long_ago(store: Store, who: str, path: str, body: bytes) -> None:
    """A PUT signed (correctly) 20 minutes ago, as someone who captured it would replay it."""
    keys = store.keys[who]
    host = store.endpoint.removeprefix("http://")
    request = AWSRequest(method="PUT", url=f"http://{host}{path}", data=body)
    signer = S3SigV4Auth(
        BotoCredentials(keys.access_key_id, keys.secret_access_key), "s3", "us-east-1"
    )
    then = datetime.now(UTC) - timedelta(minutes=20)
    with mock.patch("botocore.auth.get_current_datetime", return_value=then):
        signer.add_auth(request)
    answer = requests.put(store.endpoint + path, data=body, headers=dict(request.headers))
    answer.raise_for_status()


def _presigned_get(store: Store, bucket: str, key: str) -> bytes:
    url = store.client("alice").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}
    )
    answer = requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.content


def _moto_api(store: Store, method: str, path: str, **kwargs: object) -> str:
    answer = requests.request(method, store.endpoint + path, timeout=10, **kwargs)
    answer.raise_for_status()
    return answer.text


def _unsigned_write_works(store: Store) -> bool:
    try:
        store.client(None).put_object(Bucket=SCRATCH, Key="unsigned-probe", Body=b"x")
    except Exception:
        return False
    return _exists(store, f"{SCRATCH}/unsigned-probe")


@dataclass
class Row:
    who: str
    what: str
    expected: str
    outcome: str
    detail: str


TABLE: list[Row] = []


@pytest.fixture(scope="module", autouse=True)
def print_table(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or not TABLE:
        return
    lines = ["", "embedded store access table (who | operation | expected | outcome):"]
    for row in TABLE:
        mark = "ok " if row.expected == row.outcome else "BAD"
        lines.append(
            f"  {mark} {row.who:<13} | {row.what:<58} | {row.expected:<7} | {row.outcome}"
            f"  {row.detail[:70]}"
        )
    bad = sum(row.expected != row.outcome for row in TABLE)
    lines.append(f"  {len(TABLE) - bad} of {len(TABLE)} rows as expected")
    with capture.global_and_fixture_disabled():  # shown whether the tests pass or fail
        for line in lines:
            reporter.write_line(line)


def _attempt(store: Store, case: Case) -> tuple[str, str]:
    """('allowed' or 'denied', detail). Allowed means: no error and the effect is there."""
    try:
        result = case.act(store)
    except (PermissionError, botocore.exceptions.ClientError, requests.HTTPError) as err:
        error, result = err, None
    except OSError as err:  # s3fs's translation of other refusals
        error, result = err, None
    else:
        error = None
    said = f"{type(error).__name__}: {error}" if error is not None else "no error"
    if case.happened is not None:
        return ("allowed" if case.happened(store) else "denied"), said
    if error is not None:
        return "denied", said
    evidence = _READ_EVIDENCE.get(case.what, lambda _result: True)
    return ("allowed" if evidence(result) else "denied"), "answered"


@pytest.mark.parametrize("case", HOSTILE, ids=[c.what for c in HOSTILE])
def test_hostile_operations_are_denied(store, case):
    outcome, detail = _attempt(store, case)
    TABLE.append(Row(case.who or "(unsigned)", case.what, "denied", outcome, detail))
    assert outcome == "denied", detail


@pytest.mark.parametrize("case", ALLOWED, ids=[c.what for c in ALLOWED])
def test_users_can_do_their_work(store, case):
    outcome, detail = _attempt(store, case)
    TABLE.append(Row(case.who, case.what, "allowed", outcome, detail))
    assert outcome == "allowed", detail


def test_users_keys_survive_a_restart_and_a_crash(tmp_path):
    state = tmp_path / "state"
    keep = tmp_path / "keys" / "alice.json"
    proc, options = serve_store(state)
    try:
        operator = Credentials(options["key"], options["secret"])
        s3fs.S3FileSystem(**options, skip_instance_cache=True).mkdir(SCRATCH)
        policy = user_policy("alice", load_settings())
        alice = ensure_user_credentials(options["endpoint_url"], operator, "alice", policy, keep)
        assert (
            ensure_user_credentials(options["endpoint_url"], operator, "alice", policy, keep)
            == alice
        )
    finally:
        proc.kill()  # a crash: the keys were saved when they were made
        proc.wait(timeout=20)
    for secret_file in ("identities.json", "operator.json"):
        assert (state / secret_file).stat().st_mode & 0o077 == 0, secret_file
    assert (keep.stat().st_mode & 0o077) == 0

    proc, options = serve_store(state)
    try:
        assert Credentials(options["key"], options["secret"]) == operator
        fs = s3fs.S3FileSystem(
            endpoint_url=options["endpoint_url"],
            key=alice.access_key_id,
            secret=alice.secret_access_key,
            skip_instance_cache=True,
        )
        fs.pipe(f"{SCRATCH}/alice/after-restart.txt", b"still me")
        with pytest.raises(PermissionError):
            fs.pipe(f"{SCRATCH}/bob/after-restart.txt", b"still not bob")
        # The kept key is still the store's: the workspace hands out the same one.
        again = ensure_user_credentials(options["endpoint_url"], operator, "alice", policy, keep)
        assert again == alice
    finally:
        proc.terminate()
        proc.wait(timeout=20)

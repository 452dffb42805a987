"""The JupyterLab extension's REST handlers (soc_workspace_lab) in a real Jupyter server.

One module-wide set-up: a real store process holding a day of demo HERMES EEA and NEMISIS
files with their catalog, and `jupyter server` as a process of this environment (the
extension enabled the way the installation enables it, from etc/jupyter), with a token and
Jupyter's defaults otherwise (as users' servers run: the extension's own decorators, not
`allow_unauthenticated_access=False`, must refuse strangers). Answers are checked against
what the store holds (the demo writer's report: the catalog never lists), against papermill
and against matplotlib's PNG reader.
"""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
from datetime import date

import nbformat
import pytest
import requests
from conftest import PROJECT_ROOT, serve_store

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

TOKEN = "lab-handler-test-token-1234567890"
DAY = "2025-06-01"
NEXT_DAY = "2025-06-02"
TEMPLATES = PROJECT_ROOT / "notebooks" / "templates"
QUICKLOOK_MAX_FILES = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store process with a day of demo EEA and NEMISIS files and their catalog."""
    from soc_workspace.catalog import build, clear_cache
    from soc_workspace.demo import write_demo_data

    proc, info = serve_store(tmp_path_factory.mktemp("lab-store"))
    env = {
        "AWS_ENDPOINT_URL_S3": info["endpoint_url"],
        "AWS_ACCESS_KEY_ID": info["key"],
        "AWS_SECRET_ACCESS_KEY": info["secret"],
        "AWS_DEFAULT_REGION": "us-east-1",
        "SOC_WORKSPACE__STORE__ENDPOINT_URL": info["endpoint_url"],
        "SOC_WORKSPACE__CATALOG__CACHE_DIR": str(tmp_path_factory.mktemp("lab-cache")),
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        report = write_demo_data(
            days=1, start=date(2025, 6, 1), instruments=["eea", "nemisis"], progress=False
        )
        clear_cache()
        build(mission="hermes", progress=False)
        yield env, report, info
        clear_cache()
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def server(store, tmp_path_factory):
    """`jupyter server` with the extension, its log, and the home folder it serves."""
    env_vars, _, _ = store
    home = tmp_path_factory.mktemp("lab-home")
    config = tmp_path_factory.mktemp("lab-config")
    (config / "jupyter_server_config.py").write_text(
        f"c.LabSettings.templates_dir = {str(TEMPLATES)!r}\n"
        f"c.LabSettings.quicklook_max_files = {QUICKLOOK_MAX_FILES}\n"
    )
    port = _free_port()
    log = home.parent / f"{home.name}.log"
    import os

    env = {
        **os.environ,
        **env_vars,
        "HOME": str(home),
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(home.parent / f"{home.name}-runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyter_server",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={home}",
        f"--IdentityProvider.token={TOKEN}",
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(f"{url}/api/status", params={"token": TOKEN}, timeout=2).ok:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"jupyter server did not start:\n{log.read_text()[-4000:]}")
        time.sleep(0.3)
    yield url, home, log
    proc.terminate()
    proc.wait(timeout=20)


def _api(server, path: str, token: str | None = TOKEN, method: str = "GET", **kwargs):
    url, _, _ = server
    headers = {"Authorization": f"token {token}"} if token else {}
    response = requests.request(
        method, f"{url}/soc-workspace-lab/{path}", headers=headers, timeout=120, **kwargs
    )
    response.json = lambda: _strict_json(response.text)  # as a browser parses it
    return response


def _strict_json(text: str):
    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON (browsers refuse it)")

    return json.loads(text, parse_constant=refuse)


def _day(**extra) -> dict:
    return {"dataset": "hermes_eea_l1", "start": f"{DAY}T00:00:00Z", "stop": NEXT_DAY, **extra}


def _stored_day(report, bucket: str, level: str) -> dict[str, int]:
    """The store's objects of that bucket, level and day: file name -> size (from the demo
    writer's report, i.e. what was uploaded), newest version of each start time."""
    newest: dict[str, tuple[str, int]] = {}
    for b, key, size in report.objects:
        name = key.rsplit("/", 1)[-1]
        if b == bucket and f"_{level}_" in name and f"_{DAY.replace('-', '')}T" in name:
            stamp = name.rsplit("_v", 1)[0]
            if stamp not in newest or name > newest[stamp][0]:
                newest[stamp] = (name, size)
    return dict(newest.values())


# -- authentication ------------------------------------------------------------------------

# One request per route and method; the routes' own table says which there are.
REQUESTS = [
    ("GET", "datasets"),
    ("GET", f"files?dataset=hermes_eea_l1&start={DAY}&stop={NEXT_DAY}"),
    ("GET", f"availability?dataset=hermes_eea_l1&start={DAY}&stop={NEXT_DAY}"),
    ("GET", f"quicklook?dataset=hermes_eea_l1&start={DAY}&stop={DAY}T03:00&format=json"),
    ("GET", "templates"),
    ("POST", "templates/quickstart"),
]


def test_the_requests_cover_every_route_and_method():
    from soc_workspace_lab.routes import ROUTES
    from tornado.web import RequestHandler

    def route_of(path: str) -> str:
        return re.sub(r"^templates/[^/]+$", "templates/([^/]+)", path.split("?")[0])

    covered = {(m, route_of(p)) for m, p in REQUESTS}
    implemented = {
        (method, path)
        for path, handler in ROUTES
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if getattr(handler, method.lower()) is not RequestHandler._unimplemented_method
    }
    assert implemented == covered


@pytest.mark.parametrize(("method", "path"), REQUESTS)
@pytest.mark.parametrize("token", [None, "not-the-token"], ids=["no-token", "wrong-token"])
def test_every_handler_refuses_requests_without_the_users_token(server, method, path, token):
    response = _api(server, path, token=token, method=method, json={"parameters": {}})
    assert response.status_code == 403, response.text
    assert "hermes" not in response.text
    assert "quickstart" not in response.text
    # the same request with the token is answered (so the 403 above is the token's doing)
    if method == "GET":
        assert _api(server, path, method=method).status_code == 200


def test_cookies_without_the_token_are_not_enough(server):
    url, _, _ = server
    session = requests.Session()
    session.get(f"{url}/login", timeout=10)  # a visitor's cookies (XSRF), no login
    response = session.get(f"{url}/soc-workspace-lab/datasets", timeout=10)
    assert response.status_code == 403


def test_jupyter_server_finds_no_endpoint_without_authentication(server):
    """jupyter_server's own check (which it runs at start-up when
    allow_unauthenticated_access=False) names every method lacking @tornado.web.authenticated."""
    from jupyter_server.serverapp import ServerWebApplication
    from soc_workspace_lab.routes import ROUTES

    check = ServerWebApplication._check_handler_auth
    assert [m for path, handler in ROUTES for m in check(None, path, handler)] == []

    class Forgotten(ROUTES[0][1]):  # the check does catch a handler without the decorator
        async def get(self) -> None:
            self.finish("{}")

    assert check(None, "x", Forgotten) == ["- GET of Forgotten registered for x"]
    _, _, log = server
    assert "soc-workspace-lab: data browser and templates at" in log.read_text()


# -- the catalog -------------------------------------------------------------------------------


def test_datasets_lists_the_catalog_with_names_and_spans(server):
    answer = _api(server, "datasets").json()
    by_id = {d["dataset"]: d for d in answer["datasets"]}
    assert {"hermes_eea_l1", "hermes_nemisis_l1"} <= set(by_id)
    eea = by_id["hermes_eea_l1"]
    assert eea["mission"] == "hermes"
    assert eea["instrument"] == "eea"
    assert eea["level"] == "l1"
    assert eea["descriptor"] is None  # (pandas says NaN: that must not reach the JSON)
    assert eea["files"] == 24
    assert eea["filetype"] == "cdf"
    assert eea["start"] == f"{DAY}T00:00:00Z"
    assert eea["stop"] == f"{NEXT_DAY}T00:00:00Z"  # hourly files: the last ends at midnight
    assert eea["instrument_title"]
    assert eea["mission_title"]
    assert answer["stage"] == "prod"
    # the other instruments' buckets do not exist here: not an error, and not a dataset
    assert answer["warnings"] == []


def test_files_are_the_stores_files_of_the_day_page_by_page(server, store):
    _, report, _ = store
    stored = _stored_day(report, "hermes-eea", "l1")
    assert len(stored) == 24
    pages = [_api(server, "files", params=_day(offset=o, limit=10)).json() for o in (0, 10, 20)]
    assert [p["total"] for p in pages] == [24, 24, 24]
    assert [len(p["files"]) for p in pages] == [10, 10, 4]
    rows = [row for page in pages for row in page["files"]]
    assert {r["filename"]: r["filesize"] for r in rows} == stored
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
    assert rows[0]["start"] == f"{DAY}T00:00:00Z"
    assert rows[-1]["start"] == f"{DAY}T23:00:00Z"
    assert all(r["url"] == f"s3://hermes-eea/{_key(report, r['filename'])}" for r in rows)
    assert pages[0]["bytes"] == sum(stored.values())
    # past the end: an empty page, still with the total
    beyond = _api(server, "files", params=_day(offset=100)).json()
    assert (beyond["total"], beyond["files"]) == (24, [])


def _key(report, filename: str) -> str:
    return next(k for _, k, _ in report.objects if k.endswith("/" + filename))


def test_files_of_part_of_a_day_overlap_the_range(server):
    answer = _api(server, "files", params=_day(start=f"{DAY}T05:30:00Z", stop=f"{DAY}T08:00Z"))
    starts = [r["start"][11:16] for r in answer.json()["files"]]
    assert starts == ["05:00", "06:00", "07:00"]  # 05:00 runs into the range


def test_availability_counts_files_and_bytes_per_day(server, store):
    _, report, _ = store
    stored = _stored_day(report, "hermes-eea", "l1")
    answer = _api(server, "availability", params=_day(start="2025-05-01", stop="2025-07-01")).json()
    days = {d["day"]: (d["files"], d["bytes"]) for d in answer["days"]}
    assert len(days) == 61
    assert min(days) == "2025-05-01"
    assert max(days) == "2025-06-30"
    assert days[DAY] == (24, sum(stored.values()))
    assert all(v == (0, 0) for d, v in days.items() if d != DAY)


BAD_REQUESTS = [
    ("files", {"start": DAY, "stop": NEXT_DAY}, "dataset is missing"),
    ("files", _day(dataset="hermes_xyz_l1"), "unknown dataset 'hermes_xyz_l1': the catalog"),
    ("files", _day(dataset="s3://hermes-eea/l1"), "is not a dataset id"),
    ("files", _day(dataset="../../etc/passwd"), "is not a dataset id"),
    ("files", _day(start=""), "start is missing"),
    ("files", _day(start="2025-13-01"), "start='2025-13-01' is not a time"),
    ("files", _day(stop="tomorrow"), "stop='tomorrow' is not a time"),
    ("files", _day(stop=DAY), "must be after start"),
    ("files", _day(stop="2025-05-31"), "must be after start"),
    ("files", _day(start="1900-01-01"), "is outside 1950-2200"),
    ("files", _day(start="0001-01-01"), "is outside 1950-2200"),
    ("files", _day(start="99999-01-01"), "is not a time"),
    ("files", _day(offset="-1"), "offset='-1' is not a whole number"),
    ("files", _day(limit="ten"), "limit='ten' is not a whole number"),
    ("files", _day(limit="5000"), "limit=5000 is more than 1000"),
    ("availability", _day(start="2020-01-01"), "at most 400 days"),
    ("availability", _day(dataset="nope"), "unknown dataset 'nope'"),
    ("quicklook", _day(format="gif"), "format='gif': give png or json"),
    ("quicklook", _day(variable="__import__('os')"), "cannot be drawn: choose one of"),
    ("quicklook", _day(format="json"), "24 files in this range: a quicklook reads at most 12"),
    ("quicklook", _day(start="2025-06-03", stop="2025-06-04"), "no files of hermes_eea_l1"),
]


@pytest.mark.parametrize(
    ("path", "params", "message"), BAD_REQUESTS, ids=[m[:32] for _, _, m in BAD_REQUESTS]
)
def test_malformed_requests_get_400_and_a_message_for_the_panel(server, path, params, message):
    if "cannot be drawn" in message:
        params = {**params, "stop": f"{DAY}T03:00Z"}  # few enough files to open
    response = _api(server, path, params=params)
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert message in response.json()["message"]


def test_quicklook_json_lists_what_can_be_drawn_and_png_draws_it(server):
    import matplotlib.image

    import soc_workspace
    from soc_workspace.quicklook import QuicklookError

    params = _day(stop=f"{DAY}T03:00:00Z")
    summary = _api(server, "quicklook", params={**params, "format": "json"}).json()
    assert summary["files"] == 3
    names = [v["name"] for v in summary["variables"]]
    # the variables come from the real reader: the same Dataset a notebook opens
    ds = soc_workspace.open_catalog_files(
        soc_workspace.search(dataset="hermes_eea_l1", start=params["start"], stop=params["stop"])
    )
    # each with the plot ds.soc.quicklook gives it in a notebook
    expected = {}
    for name in ds.data_vars:
        try:
            expected[name] = ds.soc.plot_kind(name).kind
        except QuicklookError:
            continue
    assert {v["name"]: v["kind"] for v in summary["variables"]} == expected
    assert {"time series", "spectrogram"} <= set(expected.values())
    assert summary["variable"] == ds.soc.plot_kind().variable
    spectrogram = next(n for n, kind in expected.items() if kind == "spectrogram")
    for name in (summary["variable"], spectrogram, names[-1]):
        response = _api(server, "quicklook", params={**params, "format": "png", "variable": name})
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"] == "image/png"
        image = matplotlib.image.imread(io.BytesIO(response.content), format="png")
        assert image.shape[:2] == (400, 800)
        assert image[..., :3].std() > 0.05  # a drawing, not a blank canvas


def test_a_quicklook_of_raw_telemetry_says_what_to_do_instead(server):
    params = _day(dataset="hermes_eea_l0", stop=f"{DAY}T02:00:00Z", format="json")
    response = _api(server, "quicklook", params=params)
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert message.startswith("this selection cannot be drawn: s3://hermes-eea/")
    assert "raw telemetry" in message
    assert "calibration" in message


# -- templates ---------------------------------------------------------------------------------


def test_templates_are_listed_with_their_papermill_parameters(server):
    from papermill import inspect_notebook

    answer = _api(server, "templates").json()
    assert answer["problems"] == []
    listed = {t["name"]: t for t in answer["templates"]}
    assert set(listed) == {p.stem for p in TEMPLATES.glob("*.ipynb")}
    quick = listed["quickstart"]
    assert quick["title"].startswith("Quick start")
    assert quick["suggested_name"] == "quickstart-1.ipynb"
    params = {p["name"]: (p["type"], p["value"]) for p in quick["parameters"]}
    assert list(params) == list(inspect_notebook(str(TEMPLATES / "quickstart.ipynb")))
    assert params["day"] == ("str", "2025-06-01")
    assert params["workers"] == ("int", "2")
    rerun = {p["name"]: p for p in listed["rerun-calibration"]["parameters"]}
    assert rerun["level"]["type"] == "none"
    assert rerun["level"]["value"] == ""
    assert "first level" in rerun["level"]["help"]


def test_a_template_copy_gets_the_typed_values_as_papermill_injects_them(server):
    _, home, _ = server
    body = {
        "parameters": {"day": "2025-06-02", "workers": " 1 ", "instrument": "nemisis"},
        "name": "my-day.ipynb",
    }
    response = _api(server, "templates/quickstart", method="POST", json=body)
    assert response.status_code == 201, response.text
    assert response.json() == {"path": "my-day.ipynb"}
    notebook = nbformat.read(home / "my-day.ipynb", as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1
    assert 'day = "2025-06-02"' in injected[0].source
    assert "workers = 1\n" in injected[0].source + "\n"
    assert notebook.metadata.papermill["parameters"] == {
        "day": "2025-06-02",
        "workers": 1,
        "instrument": "nemisis",
    }
    # the template itself is unchanged, and the same name is not overwritten
    template = nbformat.read(TEMPLATES / "quickstart.ipynb", as_version=4)
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in template.cells)
    again = _api(server, "templates/quickstart", method="POST", json=body)
    assert again.status_code == 409
    assert "my-day.ipynb is already in your home folder" in again.json()["message"]
    # the next suggested name skips names in use
    _api(server, "templates/quickstart", method="POST", json={"parameters": {}})
    listed = {t["name"]: t for t in _api(server, "templates").json()["templates"]}
    assert (home / "quickstart-1.ipynb").exists()
    assert listed["quickstart"]["suggested_name"] == "quickstart-2.ipynb"


def test_a_none_parameter_takes_text_literals_or_nothing(server):
    _, home, _ = server
    for typed, expected in (("", None), ("l0", "l0"), ("'raw'", "raw"), ("3", 3)):
        name = f"rerun-{expected}.ipynb"
        body = {"parameters": {"level": typed}, "name": name}
        response = _api(server, "templates/rerun-calibration", method="POST", json=body)
        assert response.status_code == 201, response.text
        notebook = nbformat.read(home / name, as_version=4)
        assert notebook.metadata.papermill["parameters"] == {"level": expected}


BAD_TEMPLATE_REQUESTS = [
    ("quickstart", {"parameters": {"workers": "two"}}, "workers='two': expected a whole number"),
    ("quickstart", {"parameters": {"workers": "2.5"}}, "expected a whole number"),
    ("quickstart", {"parameters": {"workers": 2}}, "expected the value as text"),
    ("quickstart", {"parameters": {"colour": "red"}}, "quickstart has no parameter colour"),
    ("quickstart", {"parameters": ["day"]}, "expected an object of parameter name"),
    ("quickstart", {"parameters": {}, "name": "../escape.ipynb"}, "without folders"),
    ("quickstart", {"parameters": {}, "name": "sub/x.ipynb"}, "without folders"),
    ("quickstart", {"parameters": {}, "name": "x.py"}, "ending in .ipynb"),
    ("quickstart", {"parameters": {}, "name": ".hidden.ipynb"}, "without folders"),
    ("no-such", {"parameters": {}}, "unknown template 'no-such': the templates are"),
    ("..%2F..%2Fetc", {"parameters": {}}, "unknown template '../../etc'"),
    ("quickstart", ["not", "an", "object"], "expected a JSON object"),
]


@pytest.mark.parametrize(
    ("name", "body", "message"),
    BAD_TEMPLATE_REQUESTS,
    ids=[m[:30] for _, _, m in BAD_TEMPLATE_REQUESTS],
)
def test_bad_template_requests_get_400_and_write_nothing(server, name, body, message):
    _, home, _ = server
    before = sorted(p.name for p in home.iterdir())
    response = _api(server, f"templates/{name}", method="POST", json=body)
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    assert sorted(p.name for p in home.iterdir()) == before
    assert not (home.parent / "escape.ipynb").exists()


def test_a_body_that_is_not_json_gets_400(server):
    response = _api(server, "templates/quickstart", method="POST", data=b"{not json")
    assert response.status_code == 400
    assert "Invalid JSON" in response.json()["message"]

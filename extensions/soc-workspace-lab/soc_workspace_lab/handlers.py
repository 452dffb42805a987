"""The REST handlers of the data browser and the template launcher.

Every method is ``tornado.web.authenticated`` (the user's token or login, as for Jupyter's
own API) and answers JSON; a request to change gets 400 and ``{"message": ...}`` that the
panel shows. The work (catalog reads, drawing) runs in a thread, off the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import tornado.web
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import ensure_async

from soc_workspace.catalog import CatalogError

from .availability import MAX_DAYS, availability_answer
from .config import LabSettings
from .queries import MAX_PAGE, BadRequest, files_answer, parse_count, selection

T = TypeVar("T")


class Refused(tornado.web.HTTPError):
    """An answer other than success, with a message for people (not for the log format)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


class LabHandler(APIHandler):
    """What all the extension's handlers share."""

    @property
    def lab(self) -> LabSettings:
        """The extension's settings."""
        return self.settings["soc_workspace_lab"]

    def argument(self, name: str) -> str | None:
        return self.get_query_argument(name, None)

    async def work(self, function: Callable[..., T], *args: Any) -> T:
        """Run ``function`` in a thread; its BadRequest becomes a 400 answer."""
        warming = self.lab.warming
        if warming is not None:  # the catalog is being read since the server started
            with contextlib.suppress(Exception):  # its own error comes again below
                await asyncio.wrap_future(warming)
        try:
            return await asyncio.to_thread(function, *args)
        except BadRequest as err:
            raise Refused(400, str(err)) from None
        except CatalogError as err:  # an index that cannot be read: the store, not the request
            raise Refused(503, f"the catalog cannot be read: {err}") from None

    def checked(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` (a quick check); its BadRequest becomes a 400 answer."""
        try:
            return function(*args)
        except BadRequest as err:
            raise Refused(400, str(err)) from None

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        error = kwargs.get("exc_info", (None, None))[1]
        if isinstance(error, Refused):
            self.finish(json.dumps({"message": error.message}))
            return
        super().write_error(status_code, **kwargs)

    async def free_name(self, stem: str) -> str:
        """``<stem>-<n>.ipynb``, the first such name the home folder does not have."""
        number = 1
        while await ensure_async(self.contents_manager.exists(f"{stem}-{number}.ipynb")):
            number += 1
        return f"{stem}-{number}.ipynb"

    def answer(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(data, allow_nan=False))  # NaN is not JSON: browsers refuse it


class DatasetsHandler(LabHandler):
    """GET: the catalog's datasets (names, time span, files), for the tree."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from .queries import datasets_answer

        self.answer(await self.work(datasets_answer))


class FilesHandler(LabHandler):
    """GET ?dataset=&start=&stop=&offset=&limit=: one page of the selection's files."""

    @tornado.web.authenticated
    async def get(self) -> None:
        def page() -> dict[str, Any]:
            offset = parse_count(self.argument("offset"), "offset", 0)
            limit = parse_count(self.argument("limit"), "limit", 100, MAX_PAGE)
            chosen = selection(
                self.argument("dataset"), self.argument("start"), self.argument("stop")
            )
            return files_answer(chosen, offset, limit)

        self.answer(await self.work(page))


class AvailabilityHandler(LabHandler):
    """GET ?dataset=&start=&stop=: files and bytes per day (the availability strip)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        def strip() -> dict[str, Any]:
            chosen = selection(
                self.argument("dataset"),
                self.argument("start"),
                self.argument("stop"),
                max_days=MAX_DAYS,
            )
            return availability_answer(chosen)

        self.answer(await self.work(strip))


class QuicklookHandler(LabHandler):
    """GET ?dataset=&start=&stop=&format=png|json&variable=: a quicklook of the selection.

    ``json`` lists the variables that can be drawn (and the default one); ``png`` draws one.
    """

    @tornado.web.authenticated
    async def get(self) -> None:
        from soc_workspace import SOCDataError

        from .quicklook import render_png, summary_answer

        form = self.argument("format") or "png"
        if form not in ("png", "json"):
            raise Refused(400, f"format={form[:20]!r}: give png or json")
        variable = self.argument("variable")
        most = self.lab.quicklook_max_files

        def draw() -> Any:
            chosen = selection(
                self.argument("dataset"), self.argument("start"), self.argument("stop")
            )
            if form == "json":
                return summary_answer(chosen, most)
            return render_png(chosen, variable, most)

        try:
            result = await self.work(draw)
        except SOCDataError as err:  # e.g. raw telemetry: it says what to do instead
            raise Refused(422, f"this selection cannot be drawn: {err}") from None
        if form == "json":
            self.answer(result)
        else:
            self.set_header("Cache-Control", "no-store")
            self.finish(result, set_content_type="image/png")


class TemplatesHandler(LabHandler):
    """GET: the notebook templates, their parameters and a free name for a copy."""

    @tornado.web.authenticated
    async def get(self) -> None:
        from .templates import list_templates

        templates, problems = await self.work(list_templates, Path(self.lab.templates_dir))
        for problem in problems:
            self.log.warning("soc-workspace-lab: template left out: %s", problem)
        listed = []
        for template in templates:
            data = template.to_dict()
            data["suggested_name"] = await self.free_name(template.name)
            listed.append(data)
        self.answer({"templates": listed, "problems": problems})


class TemplateCopyHandler(LabHandler):
    """POST {"parameters": {name: text}, "name": "x.ipynb"} to templates/<template>: a copy
    of the template with those values, in the home folder (201 and its path)."""

    auth_resource = "contents"  # it writes a notebook, as Jupyter's contents API does

    @tornado.web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        from .templates import check_notebook_name, find_template, parameter_values, parameterized

        body = self.get_json_body()
        if not isinstance(body, dict):
            raise Refused(400, 'expected a JSON object: {"parameters": {...}, "name": "x.ipynb"}')
        folder = Path(self.lab.templates_dir)
        template = await self.work(find_template, folder, name)
        values = self.checked(parameter_values, template, body.get("parameters", {}))
        target = self.checked(
            check_notebook_name, body.get("name") or await self.free_name(template.name)
        )
        if await ensure_async(self.contents_manager.exists(target)):
            raise Refused(409, f"{target} is already in your home folder: choose another name")
        notebook = await self.work(parameterized, template, values)
        model = {"type": "notebook", "format": "json", "content": notebook}
        saved = await ensure_async(self.contents_manager.save(model, target))
        self.log.info("soc-workspace-lab: %s made from template %s", saved["path"], name)
        self.answer({"path": saved["path"]}, status=201)

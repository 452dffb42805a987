"""Notebook templates for the launcher: their parameters, and copies with other values.

The templates are the notebooks in the templates folder (``~/templates`` in both deployments);
a template is named by its file's stem, never by a path of the request. Parameters are those
of its papermill parameters cell (``papermill.inspect_notebook``); a copy gets the values the
person typed through ``papermill``'s own ``parameterize_notebook`` (an injected-parameters
cell, and the values in the notebook's metadata), exactly as a papermill run would.
"""

from __future__ import annotations

import ast
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from .queries import BadRequest

NOTEBOOK_NAME = re.compile(r"^[^/\\\x00-\x1f]{1,120}\.ipynb$")


@dataclass
class Parameter:
    name: str
    type: str  # of the default value: str, int, float, bool, none, list, dict, other
    value: str  # the default as a form shows it
    help: str
    default: Any = field(repr=False)


@dataclass
class Template:
    name: str
    file: str
    title: str
    description: str
    parameters: list[Parameter]
    path: Path = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["path"]
        for parameter in data["parameters"]:
            del parameter["default"]
        return data


_TYPES = {str: "str", int: "int", float: "float", bool: "bool", type(None): "none"}
_TYPES.update({list: "list", dict: "dict", tuple: "tuple"})
_INVALID = object()
_WANTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "True or False",
    "list": "a Python list",
    "dict": "a Python dict",
    "tuple": "a Python tuple",
    "other": "a Python literal (number, text in quotes, list, ...)",
}


def _parameter(name: str, info: dict[str, Any]) -> Parameter:
    source = info.get("default", "")
    try:
        default = ast.literal_eval(source)
    except (ValueError, SyntaxError):
        default = source  # an expression: shown and sent back as Python text
        return Parameter(name, "other", source, info.get("help", ""), default)
    kind = _TYPES.get(type(default), "other")
    if kind == "str":
        shown = default
    elif kind == "none":
        shown = ""
    else:
        shown = source
    return Parameter(name, kind, shown, info.get("help", ""), default)


def _title_and_description(notebook: Any, fallback: str) -> tuple[str, str]:
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        if lines and lines[0].startswith("# "):
            paragraph = []
            for line in lines[1:]:
                if line.strip():
                    paragraph.append(line.strip())
                elif paragraph:
                    break
            return lines[0][2:].strip(), " ".join(paragraph)
        break
    return fallback, ""


def read_template(path: Path) -> Template:
    from papermill import inspect_notebook

    notebook = nbformat.read(path, as_version=4)
    title, description = _title_and_description(notebook, path.stem)
    parameters = [_parameter(n, info) for n, info in inspect_notebook(str(path)).items()]
    return Template(path.stem, path.name, title, description, parameters, path)


def list_templates(folder: Path) -> tuple[list[Template], list[str]]:
    """The templates of a folder, by name, and a reason for each notebook that could not be
    read (it is left out; the others are listed)."""
    found, problems = [], []
    for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
        try:
            found.append(read_template(path))
        except Exception as err:
            problems.append(f"{path.name}: {type(err).__name__}: {err}")
    return found, problems


def find_template(folder: Path, name: str) -> Template:
    templates, _ = list_templates(folder)
    for template in templates:
        if template.name == name:
            return template
    names = ", ".join(t.name for t in templates) or "none"
    raise BadRequest(f"unknown template {name[:100]!r}: the templates are {names}")


def _convert(parameter: Parameter, text: Any) -> Any:
    """A typed value of a parameter from what was typed into its field."""
    if not isinstance(text, str):
        raise BadRequest(f"{parameter.name}: expected the value as text, got {type(text).__name__}")
    kind = parameter.type
    if kind == "str":
        return text
    text = text.strip()
    if kind == "bool":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
    elif kind == "none":
        if text in ("", "None"):
            return None
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text  # plain text, e.g. l0
    else:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = _INVALID
        if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if value is not _INVALID and (kind == "other" or type(value).__name__ == kind):
            return value
    raise BadRequest(f"{parameter.name}={text[:100]!r}: expected {_WANTED[kind]}")


def parameter_values(template: Template, typed: Any) -> dict[str, Any]:
    """The values to inject, checked against the template's parameters."""
    if not isinstance(typed, dict):
        raise BadRequest("parameters: expected an object of parameter name -> value")
    known = {p.name: p for p in template.parameters}
    unknown = sorted(set(typed) - set(known))
    if unknown:
        raise BadRequest(
            f"{template.name} has no parameter {', '.join(map(str, unknown))[:200]}: "
            f"its parameters are {', '.join(known)}"
        )
    # An expression as default (not a literal) stays in the template unless it was changed:
    # papermill injects values, not expressions.
    return {
        name: _convert(known[name], text)
        for name, text in typed.items()
        if not (known[name].type == "other" and text == known[name].value)
    }


def parameterized(template: Template, values: dict[str, Any]) -> Any:
    """The template with the values injected, as papermill does before running it."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    return parameterize_notebook(load_notebook_node(str(template.path)), values)


def check_notebook_name(name: Any) -> str:
    if not isinstance(name, str) or not NOTEBOOK_NAME.match(name) or name.startswith("."):
        raise BadRequest(
            f"name={str(name)[:100]!r}: give a notebook file name ending in .ipynb, without folders"
        )
    return name

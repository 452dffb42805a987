"""Server profiles on one machine: the sizes users choose from when their server starts.

A form lists them when there are several and the chosen profile's limits are set on the
spawner (shown to users, not enforced). On Kubernetes the chart's profiles become
KubeSpawner's ``profile_list`` instead (``soc_workspace.kubernetes``), where they are enforced.
"""

from __future__ import annotations

import html
from typing import Any

from traitlets.config import Config

from ..config import ProfileSettings, Settings, parse_memory


def profiles(settings: Settings) -> dict[str, ProfileSettings]:
    """The profiles by name; the first is the default."""
    return dict(settings.hub.profiles)


def options_form(settings: Settings) -> str:
    """HTML of the profile choice shown before a server starts."""
    rows = []
    for index, (name, profile) in enumerate(profiles(settings).items()):
        checked = " checked" if index == 0 else ""
        rows.append(
            f'<div class="radio"><label><input type="radio" name="profile" '
            f'value="{html.escape(name)}"{checked}> <strong>{html.escape(profile.display_name)}'
            f"</strong> {html.escape(profile.description)}</label></div>"
        )
    return "\n".join(rows)


def options_from_form(formdata: dict[str, list[str]]) -> dict[str, str]:
    """The form's answer as user options (``{"profile": name}``)."""
    return {"profile": formdata.get("profile", [""])[0]}


def apply_profile(spawner: Any, settings: Settings, name: str | None) -> ProfileSettings:
    """Set the chosen profile's limits on a spawner; an unknown name is an error."""
    available = profiles(settings)
    name = name or next(iter(available))
    if name not in available:
        raise ValueError(f"no profile {name!r}; choose one of: {', '.join(available)}")
    profile = available[name]
    spawner.cpu_limit = profile.cpu_limit
    spawner.mem_limit = parse_memory(profile.mem_limit) if profile.mem_limit else None
    return profile


def workshop_profile(spawner: Any) -> str | None:
    """The profile of the user's workshop, if they take part in one that sets it."""
    from ..hub.teams import workshops_of

    return next((w["profile"] for w in workshops_of(spawner) if w.get("profile")), None)


def configure_profiles(c: Config, settings: Settings) -> None:
    """The default profile's limits for every server, and a choice when there are several.

    Workshop participants get their workshop's profile, without the choice.
    """
    first = next(iter(profiles(settings).values()))
    c.Spawner.cpu_limit = first.cpu_limit
    c.Spawner.mem_limit = parse_memory(first.mem_limit) if first.mem_limit else None

    def _apply(spawner: Any, user_options: dict[str, Any]) -> None:
        chosen = user_options.get("profile") or workshop_profile(spawner)
        apply_profile(spawner, settings, chosen)

    c.Spawner.apply_user_options = _apply
    if len(profiles(settings)) > 1:
        form = options_form(settings)
        c.Spawner.options_form = lambda spawner: "" if workshop_profile(spawner) else form
        c.Spawner.options_from_form = options_from_form

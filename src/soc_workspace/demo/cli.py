"""``soc-workspace demo-data`` (being written)."""

import click


@click.command("demo-data")
def demo_data() -> None:
    """Write realistic demo SOC files into a store."""
    raise click.ClickException("demo-data is not written yet")

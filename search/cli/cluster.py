"""``news-search cluster``: write, start and stop a Sphinx/Manticore cluster's servers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .runner import app

cluster_app = typer.Typer(
    help="A Sphinx/Manticore cluster on this machine: write its configs, start and stop it.",
    short_help="Write, start and stop a Sphinx cluster.",
    no_args_is_help=True,
)
app.add_typer(cluster_app, name="cluster")

FolderArgument = Annotated[Path, typer.Argument(help="The cluster's folder (configs, data, logs).")]
ServersOption = Annotated[Optional[list[str]], typer.Option("--server", help="Only this server (repeatable): head, shard0, shard0-copy1 …")]


@cluster_app.command("init")
def init_command(
    folder: FolderArgument,
    shards: Annotated[int, typer.Option("--shards", help="Shard servers.", min=1)] = 2,
    mirrors: Annotated[bool, typer.Option("--mirrors", help="A second copy of every shard, for failover.")] = False,
    port: Annotated[int, typer.Option("--port", help="The head's SphinxQL port; the shards take the next ones.", min=1, max=65535)] = 9306,
) -> None:
    """Write the searchd configs of N shards and a head into FOLDER; print the index address."""
    from ..cluster.layout import init_cluster

    layout = init_cluster(folder, shards, mirrors=mirrors, port=port)
    for server in layout.servers:
        typer.echo(f"{server.name}: {folder / server.name / 'sphinx.conf'} (SphinxQL port {server.port})", err=True)
    typer.echo(layout.url)


@cluster_app.command("start")
def start_command(folder: FolderArgument, server: ServersOption = None) -> None:
    """Start the cluster's servers (those not running); print the index address."""
    from ..cluster.servers import start_cluster

    typer.echo(start_cluster(folder, server).url)


@cluster_app.command("stop")
def stop_command(folder: FolderArgument, server: ServersOption = None) -> None:
    """Stop the cluster's servers, each after it has written its data."""
    from ..cluster.servers import stop_cluster

    stop_cluster(folder, server)

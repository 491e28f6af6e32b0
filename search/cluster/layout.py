"""A cluster's layout: N shards (each with an optional mirror) and a head whose
distributed index has them as agents, written as ``searchd`` configs.

Each shard server listens for SphinxQL on port ``P`` and for its agents' protocol on
``P + 1``; the head's distributed index names the agents, so a client that knows the
head (``sphinx://HOST:PORT/news``) finds every shard with ``DESCRIBE``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UsageError

#: The index name of every shard's real-time index, and of the head's distributed one.
SHARD_INDEX = "shard"
HEAD_INDEX = "news"
#: The head's small real-time index of what every client must share: the user dictionary
#: the articles were segmented with, and the synonyms queries use.
SETTINGS_INDEX = "settings"
LAYOUT_FILE = "cluster.json"

#: Characters the shards keep in words: digits, Latin letters (folded to lower case) and
#: CJK ideographs, so a token of ours (软件, win11) is one Sphinx word.
CHARSET_TABLE = "0..9, A..Z->a..z, _, a..z, U+00C0..U+024F, U+3400..U+4DBF, U+4E00..U+9FFF, U+F900..U+FAFF, U+3040..U+30FF, U+AC00..U+D7A3"


@dataclass
class Server:
    """One ``searchd``: its folder (under the cluster's), SphinxQL port and agent port."""

    name: str
    port: int

    @property
    def agent_port(self) -> int:
        return self.port + 1


@dataclass
class Layout:
    """Shards (each a list of copies: the first and its mirrors) and the head."""

    head: Server
    shards: list[list[Server]] = field(default_factory=list)

    @property
    def servers(self) -> list[Server]:
        return [copy for shard in self.shards for copy in shard] + [self.head]

    @property
    def url(self) -> str:
        return f"sphinx://127.0.0.1:{self.head.port}/{HEAD_INDEX}"

    @classmethod
    def read(cls, folder: Path) -> "Layout":
        try:
            data = json.loads((folder / LAYOUT_FILE).read_text("utf-8"))
            return cls(Server(**data["head"]), [[Server(**copy) for copy in shard] for shard in data["shards"]])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise UsageError(f"{folder} holds no cluster made by `news-search cluster init` ({error})") from None


def init_cluster(folder: str | Path, shards: int = 2, *, mirrors: bool = False, port: int = 9306) -> Layout:
    """Write the configs of ``shards`` shards (and a mirror of each) and a head into ``folder``."""
    folder = Path(folder)
    if shards < 1:
        raise UsageError(f"a cluster needs at least one shard, not {shards}")
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder} is not empty: give a new folder for the cluster")
    copies = 2 if mirrors else 1
    head = Server("head", port)
    layout = Layout(head, [[Server(f"shard{n}" + (f"-copy{c}" if c else ""), port + 2 * (1 + n * copies + c)) for c in range(copies)] for n in range(shards)])
    if layout.servers[-2].agent_port > 65535:
        raise UsageError(f"port {port} leaves no room for {len(layout.servers)} servers below 65536")
    for server in layout.servers:
        (folder / server.name / "data").mkdir(parents=True)
        index = _head_index(layout, folder / server.name) if server is head else _shard_index(folder / server.name)
        (folder / server.name / "sphinx.conf").write_text(index + _searchd(folder / server.name, server, server is head), "utf-8")
    payload = {"head": asdict(head), "shards": [[asdict(copy) for copy in shard] for shard in layout.shards]}
    (folder / LAYOUT_FILE).write_text(json.dumps(payload, indent=1) + "\n", "utf-8")
    return layout


def _shard_index(folder: Path) -> str:
    return f"""index {SHARD_INDEX}
{{
    type = rt
    path = {folder / "data" / SHARD_INDEX}
    rt_field = title
    rt_field = body
    rt_field = categories
    rt_attr_string = path
    rt_attr_string = title_text
    rt_attr_string = body_text
    rt_attr_string = content_hash
    rt_attr_json = meta
    rt_attr_bigint = date
    rt_attr_uint = month
    rt_attr_uint = has_date
    rt_attr_multi_64 = category_ids
    rt_attr_multi_64 = author_ids
    charset_table = {CHARSET_TABLE}
    rt_mem_limit = 128M
}}
"""


def _head_index(layout: Layout, folder: Path) -> str:
    agents = "\n".join(
        "    agent = " + "|".join(f"127.0.0.1:{copy.agent_port}" for copy in shard) + f":{SHARD_INDEX}" for shard in layout.shards
    )
    return f"""index {HEAD_INDEX}
{{
    type = distributed
{agents}
    agent_connect_timeout = 500
    agent_query_timeout = 5000
    ha_strategy = nodeads
}}

index {SETTINGS_INDEX}
{{
    type = rt
    path = {folder / "data" / SETTINGS_INDEX}
    rt_field = name
    rt_attr_string = value
}}
"""


def _searchd(folder: Path, server: Server, head: bool) -> str:
    # The head pings its agents every 100 ms, so a copy that died is left out within a moment.
    agent_listen = "    ha_ping_interval = 100\n    ha_period_karma = 2\n" if head else f"    listen = 127.0.0.1:{server.agent_port}\n"
    return f"""
searchd
{{
    listen = 127.0.0.1:{server.port}:mysql41
{agent_listen}    log = {folder / "searchd.log"}
    query_log = {folder / "query.log"}
    pid_file = {folder / "searchd.pid"}
    binlog_path = {folder / "data"}
    workers = threads
    max_packet_size = 32M
}}
"""

"""Talking to a cluster in SphinxQL (the MySQL protocol): addresses, connections,
and the shards a head's distributed index names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import IndexNotFoundError, UsageError
from . import SCHEME

_URL = re.compile(r"sphinx://(?P<host>[^:/]+):(?P<port>\d+)/(?P<index>\w+)/?$")


@dataclass(frozen=True)
class Address:
    """Where a SphinxQL server listens, and the index asked for there."""

    host: str
    port: int
    index: str

    @classmethod
    def parse(cls, url: str) -> "Address":
        found = _URL.match(url)
        if not found:
            raise UsageError(f"{url!r} is not a cluster address: write {SCHEME}HOST:PORT/INDEX (the head's SphinxQL listener)")
        return cls(found["host"], int(found["port"]), found["index"])

    def __str__(self) -> str:
        return f"{SCHEME}{self.host}:{self.port}/{self.index}"


def connect(address: Address):
    """A SphinxQL connection (autocommit), or :class:`IndexNotFoundError` naming the address."""
    import pymysql

    try:
        return pymysql.connect(
            host=address.host, port=address.port, user="", password="", autocommit=True, charset="utf8mb4", connect_timeout=5
        )
    except pymysql.MySQLError as error:
        raise IndexNotFoundError(
            f"no cluster answers at {address} ({error.args[-1] if error.args else error}): start it with "
            "`news-search cluster start DIR`, or check the address"
        ) from None


def rows(connection, sql: str, args: tuple | list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def shard_copies(connection, index: str) -> list[list[Address]]:
    """The shards of the head's distributed ``index``, each as its copies (mirrors),
    by their SphinxQL listeners: one port below each agent's."""
    import pymysql

    try:
        described = rows(connection, f"DESCRIBE {_name(index)}")
    except pymysql.MySQLError as error:
        raise IndexNotFoundError(f"the cluster has no index {index!r} ({error.args[-1] if error.args else error})") from None
    shards: dict[str, list[Address]] = {}
    for agent, kind in described:  # ('HOST:PORT:INDEX', 'remote_1') or ('…', 'remote_1_mirror_2')
        if kind.startswith("remote"):
            host, port, shard_index = agent.rsplit(":", 2)
            shards.setdefault(kind.split("_mirror")[0], []).append(Address(host, int(port) - 1, shard_index))
    if not shards:
        raise IndexNotFoundError(f"{index!r} is not a distributed index of shards (made by `news-search cluster init`)")
    return list(shards.values())


def _name(index: str) -> str:
    if not re.fullmatch(r"\w+", index):
        raise UsageError(f"{index!r} is not an index name")
    return index


def quoted(text: str) -> str:
    """A SphinxQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


#: Rows of the head's settings index, by id.
SETTINGS = {"user_dict": 1, "synonyms": 2, "corpus": 3}


def read_settings(connection) -> dict[str, object]:
    """The JSON values the head keeps (``user_dict``, ``synonyms``); none for a cluster without them."""
    import json

    import pymysql

    try:
        found = rows(connection, "SELECT id, value FROM settings LIMIT 10")
    except pymysql.MySQLError:  # a head written before it had settings
        return {}
    names = {number: name for name, number in SETTINGS.items()}
    return {names[number]: json.loads(value) for number, value in found if number in names and value}


def has_settings(connection) -> bool:
    """Whether the head keeps settings (heads written by ``cluster init`` do)."""
    return any(name == "settings" for name, _ in rows(connection, "SHOW TABLES"))


def write_setting(connection, name: str, value: object) -> None:
    import json

    rows(connection, f"REPLACE INTO settings (id, name, value) VALUES ({SETTINGS[name]}, {quoted(name)}, {quoted(json.dumps(value, ensure_ascii=False))})")

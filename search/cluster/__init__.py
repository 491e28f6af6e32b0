"""A Sphinx (or Manticore) cluster as a second engine behind the same API.

The corpus reader, our analysis, the query syntax, snippets and the JSON contract
stay ours; the cluster stores each article's tokens (our segmentation, joined by
spaces) and ranks them. ``layout`` writes the ``searchd`` configs of a cluster,
``servers`` starts and stops them on this machine, ``sphinxql`` talks to them,
``build`` indexes a corpus into the shards and ``searcher`` answers queries
through the head.
"""

from __future__ import annotations

#: How an index in a cluster is named where a folder would be: ``sphinx://HOST:PORT/INDEX``.
SCHEME = "sphinx://"


def is_cluster(location: object) -> bool:
    """Whether ``location`` names an index in a cluster rather than a folder."""
    return isinstance(location, str) and location.startswith(SCHEME)

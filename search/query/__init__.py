"""Queries: from what a user types to a page of hits they can read.

- :mod:`.syntax`: the lenient query language, parsed into a tree.
- :mod:`.compile`: the tree as a Whoosh query, ranked by how many words match.
- :mod:`.filters`: category, author and date filters; facets.
- :mod:`.snippets`: the best passage of a text, with the query's words marked.
- :mod:`.similar`: an article's most distinctive words, as a query for others like it.
- :mod:`.suggest` (with :mod:`.pinyin`): did-you-mean from the index's own words.
"""

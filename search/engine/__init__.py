"""The engine: how the index is written, stored and scored; the only code that
knows Whoosh beyond its public API.

- :mod:`.whoosh_seam`: every use of Whoosh's private internals, and the contract they rely on.
- :mod:`.codec`: posting lists in compact blocks; segments read in place from their memory map.
- :mod:`.writer`: a segment writer that analyses text straight into postings.
- :mod:`.postings`: a term's documents and positions in one segment.
- :mod:`.bm25f`: Whoosh's BM25F, a term at a time, with the same scores.
- :mod:`.precomputed`: queries scored a segment at a time, and their page of best hits.
- :mod:`.docsets`: filters and counts as sets of documents.
"""

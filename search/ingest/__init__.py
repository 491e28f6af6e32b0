"""Ingest: corpus files to articles.

``corpus`` walks a folder and decodes each file; ``front_matter`` reads a post's
YAML block leniently; ``markup`` turns HTML and Markdown bodies into plain text;
``dates`` reads the dates articles and users write. Nothing here knows about
the index.
"""

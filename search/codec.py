"""Where indexes of schema 3 and earlier find their codec.

Their table of contents pickles these classes by this module's path; they live
in :mod:`search.engine.codec` now. Keep this module while such indexes must open.
"""

from .engine.codec import CompactCodec, MappedSegment

__all__ = ["CompactCodec", "MappedSegment"]

"""Where indexes of schema 3 and earlier find their tokenizers.

Their table of contents pickles these classes by this module's path; they live
in :mod:`search.text` now. Keep this module while such indexes must open.
"""

from .text.tokenizers import ChineseTokenizer, GramTokenizer
from .text.user_dict import UserDict

__all__ = ["ChineseTokenizer", "GramTokenizer", "UserDict"]

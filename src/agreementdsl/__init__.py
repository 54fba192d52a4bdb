"""agreementdsl: Section 75 partnership agreements as text that is checked, run and rendered."""

from __future__ import annotations

from .api import Loaded, check, find_agreements, load, load_source

__all__ = ["Loaded", "check", "find_agreements", "load", "load_source"]
__version__ = "0.1.0"

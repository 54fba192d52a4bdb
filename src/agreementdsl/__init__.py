"""agreementdsl: Section 75 partnership agreements as text that is checked, run and rendered.

The public names are imported when first used, so that `import agreementdsl` (and with it the
command line's `--help` and `--version`) loads none of the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Loaded, check, find_agreements, load, load_source

__all__ = ["Loaded", "check", "find_agreements", "load", "load_source"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import api

        return getattr(api, name)
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("agreementdsl")  # one version, the package's own (pyproject.toml)
        except PackageNotFoundError:  # run from a source tree that was never installed
            return "unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

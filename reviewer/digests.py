"""The hash functions of the check path, without hashlib's start-up.

``import hashlib`` loads OpenSSL's bindings (``_hashlib``) and asks it for every algorithm:
about 2% of a one-file ``reviewer check``. The check path hashes small texts (fingerprints,
cache keys, settings) and file contents with BLAKE2, for which CPython's own modules give
the same digests; hashlib stays the fallback where a build lacks them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hashlib import blake2b, sha256
else:
    try:
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - Python 3.12+ names it _sha2, or a stripped build
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256
    try:
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover
        from hashlib import blake2b

__all__ = ["blake2b", "sha256"]

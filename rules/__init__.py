"""The principle catalogue: one TOML file per principle, loaded by :mod:`reviewer.principles`.

This folder ships inside the wheel as the data package ``reviewer.catalogue`` (see the
package-dir mapping in pyproject.toml). It holds data only.
"""

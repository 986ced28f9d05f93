"""Static files under content-hashed names.

After `collectstatic` every script, style and image is served as `name.<hash>.ext` with a
far-future cache header, and each ES module's imports are rewritten to the hashed names of the
modules they load, so a release never runs yesterday's JavaScript from a browser's or a proxy's
cache. Before `collectstatic` has run (the test suite, a one-off management command) there is no
manifest: names stay as they are and WhiteNoise serves the files from the finders.
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, manifest-hashed storage, with ES module imports rewritten."""

    support_js_module_import_aggregation = True

    def stored_name(self, name: str) -> str:
        if not self.hashed_files:  # no manifest: collectstatic has not run here
            return name
        return str(super().stored_name(name))

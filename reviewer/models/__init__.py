"""Model files: what a file, folder or URL is (by content), where models are kept (the
reviewer's folders and, read-only, other tools'), what to run per machine tier (the
catalogue), and adding, verifying and removing them (``reviewer models``)."""

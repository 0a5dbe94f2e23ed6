"""Where reviews land on GitHub: one PR review per run, a summary comment, a check run.

- :mod:`reviewer.github.diffmap`: which lines of a PR a comment may point at (the hunks).
- :mod:`reviewer.github.render`: markdown for inline comments, suggestions and the summary,
  with the hidden markers that make re-runs idempotent.
- :mod:`reviewer.github.plan`: what to post, edit and resolve (pure, no network).
- :mod:`reviewer.github.publish`: the PyGithub calls (imported only when publishing).
- :mod:`reviewer.github.webhook`: ``reviewer github serve``, the webhook receiver.
"""

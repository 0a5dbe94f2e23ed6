"""Learning from the team: verdicts on findings, learned suppressions, taught principles,
training data for the local model.

``store`` is the local SQLite database of findings and verdicts (``.reviewer/feedback.db``);
``snapshot`` turns a reported finding into the record the store keeps. Everything heavier
(embeddings, charts, training) lives in its own module and is imported only when used.
"""

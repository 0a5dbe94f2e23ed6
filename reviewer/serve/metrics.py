"""Prometheus text-format metrics, kept in memory (no client library needed).

Counters and histograms are guarded by one lock: handlers run on the event loop and in
worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + body + "}"


class Metrics:
    """The service's counters, histograms and gauges."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[tuple[str, str], ...], int] = {}
        self.latency: dict[str, list[int]] = {}  # endpoint -> bucket counts (+ inf)
        self.latency_sum: dict[str, float] = {}
        self.latency_count: dict[str, int] = {}
        self.tokens = 0
        self.generation_seconds = 0.0
        self.validations: dict[str, int] = {}
        self.cancellations = 0  # generations stopped because the client went away
        self.cancelled_tokens = 0  # tokens they had generated when they stopped
        self.queue_depth: Callable[[], int] = lambda: 0
        self.in_flight: Callable[[], int] = lambda: 0

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            key = (("endpoint", endpoint), ("status", str(status)))
            self.requests[key] = self.requests.get(key, 0) + 1
            buckets = self.latency.setdefault(endpoint, [0] * (len(LATENCY_BUCKETS) + 1))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            buckets[-1] += 1
            self.latency_sum[endpoint] = self.latency_sum.get(endpoint, 0.0) + seconds
            self.latency_count[endpoint] = self.latency_count.get(endpoint, 0) + 1

    def generated(self, tokens: int, seconds: float) -> None:
        with self._lock:
            self.tokens += tokens
            self.generation_seconds += seconds

    def cancelled(self, tokens: int) -> None:
        """Count a generation stopped early (its client disconnected) after ``tokens``."""
        with self._lock:
            self.cancellations += 1
            self.cancelled_tokens += tokens
            self.tokens += tokens

    def validated(self, outcome: str, n: int = 1) -> None:
        """Count a validation outcome ("passed", "failed", "no_code", "fix_validated", ...)."""
        with self._lock:
            self.validations[outcome] = self.validations.get(outcome, 0) + n

    def render(self) -> str:
        """The exposition text (``text/plain; version=0.0.4``)."""
        out: list[str] = []
        with self._lock:
            out += ["# HELP reviewer_requests_total Requests by endpoint and status.",
                    "# TYPE reviewer_requests_total counter"]
            for key, n in sorted(self.requests.items()):
                out.append(f"reviewer_requests_total{_labels(key)} {n}")
            out += ["# HELP reviewer_request_seconds Request latency by endpoint.",
                    "# TYPE reviewer_request_seconds histogram"]
            for endpoint, buckets in sorted(self.latency.items()):
                for bound, n in zip((*map(str, LATENCY_BUCKETS), "+Inf"), buckets, strict=True):
                    lab = _labels((("endpoint", endpoint), ("le", bound)))
                    out.append(f"reviewer_request_seconds_bucket{lab} {n}")
                lab = _labels((("endpoint", endpoint),))
                out.append(f"reviewer_request_seconds_sum{lab} {self.latency_sum[endpoint]:.6f}")
                out.append(f"reviewer_request_seconds_count{lab} {self.latency_count[endpoint]}")
            rate = self.tokens / self.generation_seconds if self.generation_seconds else 0.0
            out += ["# HELP reviewer_tokens_generated_total Tokens the model generated.",
                    "# TYPE reviewer_tokens_generated_total counter",
                    f"reviewer_tokens_generated_total {self.tokens}",
                    "# HELP reviewer_generation_seconds_total Seconds spent generating.",
                    "# TYPE reviewer_generation_seconds_total counter",
                    f"reviewer_generation_seconds_total {self.generation_seconds:.6f}",
                    "# HELP reviewer_tokens_per_second Tokens per second over all generations.",
                    "# TYPE reviewer_tokens_per_second gauge",
                    f"reviewer_tokens_per_second {rate:.3f}",
                    "# HELP reviewer_generations_cancelled_total Generations stopped early"
                    " because the client disconnected.",
                    "# TYPE reviewer_generations_cancelled_total counter",
                    f"reviewer_generations_cancelled_total {self.cancellations}",
                    "# HELP reviewer_cancelled_tokens_total Tokens those generations had made.",
                    "# TYPE reviewer_cancelled_tokens_total counter",
                    f"reviewer_cancelled_tokens_total {self.cancelled_tokens}",
                    "# HELP reviewer_validations_total Validation outcomes of model code.",
                    "# TYPE reviewer_validations_total counter"]
            for outcome, n in sorted(self.validations.items()):
                out.append(f'reviewer_validations_total{{outcome="{outcome}"}} {n}')
        out += ["# HELP reviewer_queue_depth Requests waiting for the model.",
                "# TYPE reviewer_queue_depth gauge",
                f"reviewer_queue_depth {self.queue_depth()}",
                "# HELP reviewer_in_flight Requests being served by the model.",
                "# TYPE reviewer_in_flight gauge",
                f"reviewer_in_flight {self.in_flight()}"]
        return "\n".join(out) + "\n"

"""The webhook receiver: verify, route, dedupe, enqueue, answer (no GitHub calls)."""

"""Webhook handlers, one module per feature. A handler only decides and enqueues: no
GitHub call, no clone and no analysis happens inside a web request."""

"""The job contract (saq queues, keys, options), the worker, child processes."""

"""Time-driven work: persisted timers and the delivery worker, run by APScheduler in `serve`
and by a virtual clock in `siteline replay`; both call the same `tick(now)`."""

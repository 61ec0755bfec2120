"""One module per `tradeoff` command; each defines register(app)."""

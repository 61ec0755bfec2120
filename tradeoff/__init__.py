"""tradeoff package."""

"""The one GitHub client: auth, rate limits, GitHub's limits as constants."""

"""Gateway control state: virtual keys, kill switches, rate limits, and the snapshot built from them."""

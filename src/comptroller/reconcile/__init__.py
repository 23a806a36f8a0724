"""Which record of model-API spend counts, and how per-call telemetry compares with the bill."""

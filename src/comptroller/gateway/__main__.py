"""``python -m comptroller.gateway --config FILE [--host --port --workers]``."""

from comptroller.gateway.serve import main

main()

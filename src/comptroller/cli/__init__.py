"""The ``comptroller`` command line."""

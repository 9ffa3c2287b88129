"""green-lint: find, fix and measure the energy that machine-learning code wastes."""

__version__ = "0.1.0"

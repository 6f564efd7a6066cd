"""Horizon: the command line and the composition roots that wire the services together."""

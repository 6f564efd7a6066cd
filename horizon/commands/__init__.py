"""Sub-commands of the `horizon` command line, one module each."""

"""One module per `sitbreak` sub-command; each exposes `register(subparsers)`."""

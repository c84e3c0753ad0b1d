"""The implementations of `stance` subcommands that do not fit in `stance/cli.py`: each module
has `add_parser(subparsers)` and `run(args) -> int`."""

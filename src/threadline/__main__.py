"""`python -m threadline` is the `threadline` command."""

from threadline.cli.main import main

main()

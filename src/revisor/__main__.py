"""`python -m revisor` runs the CLI."""

from revisor.cli import main

if __name__ == "__main__":
    main()

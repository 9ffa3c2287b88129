"""`python -m green_lint` and the `green-lint` console script."""

from green_lint.cli import main

if __name__ == "__main__":
    main()

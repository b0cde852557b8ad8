"""Allow ``python -m voice_coach``."""

from voice_coach.cli import main

if __name__ == "__main__":
    main()

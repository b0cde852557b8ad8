"""Allow ``python -m voice_coach``."""

from voice_coach.entry import main

if __name__ == "__main__":
    main()

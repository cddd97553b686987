"""Ghost: import a Ghost site, export one back (see README, Moving from Ghost)."""

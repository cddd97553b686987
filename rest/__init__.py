"""The thin REST surface: token login (later) and health checks."""

"""Application rules and wiring: settings, policy, rendering, slugs, the app factory, the CLI."""

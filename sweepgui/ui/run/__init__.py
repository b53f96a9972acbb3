"""The app's run (Qt)."""

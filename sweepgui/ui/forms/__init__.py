"""The app's forms (Qt)."""

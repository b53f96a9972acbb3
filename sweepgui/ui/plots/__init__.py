"""The app's plots (Qt)."""

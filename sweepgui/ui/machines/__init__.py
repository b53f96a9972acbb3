"""The app's machines (Qt)."""

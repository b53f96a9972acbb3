"""The app's calibration (Qt)."""

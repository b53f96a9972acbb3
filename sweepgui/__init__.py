"""sweepgui: parameter sweeps of a vibrating-tube model, each point a Nix derivation.

Kept deliberately empty of imports: ``python -m sweepgui.model`` runs once per sweep
point inside a Nix build, and every import here would be paid by every point.
"""

__version__ = "0.1.0"

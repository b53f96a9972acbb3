"""The supports of the tube: the one table of what each end condition holds.

A new boundary condition is one entry in ``SUPPORTS``, and nothing else: the choices of
``pipe.boundary`` (and so the forms, sweep-file checks and the JSON schema), the degrees of
freedom the model removes, the count of modes a mesh can have and the free-end rules (no axial
force, the follower force of discharging fluid) all read this table.
"""

from __future__ import annotations

from dataclasses import dataclass

W, THETA = 0, 1  # the two degrees of freedom of a node: transverse displacement, rotation


@dataclass(frozen=True)
class Support:
    """One end condition of the tube (both ends).

    Parameters
    ----------
    name : str
        The value of ``pipe.boundary`` ("clamped-free": x = 0 clamped, x = L free).
    label : str
        A readable name for forms and plots.
    held : tuple of two tuples of int
        The degrees of freedom held at x = 0 and at x = L (``W`` and/or ``THETA``).
    """

    name: str
    label: str
    held: tuple[tuple[int, ...], tuple[int, ...]]

    @property
    def constrained(self) -> int:
        """How many degrees of freedom the supports remove from the mesh."""
        return len(self.held[0]) + len(self.held[1])

    @property
    def free_end(self) -> bool:
        """Whether an end holds nothing (a cantilever's tip): it cannot carry an axial force,
        whatever ``pipe.axial_restraint`` says, and fluid leaving it pushes as a follower force."""
        return not self.held[0] or not self.held[1]

    def degrees_of_freedom(self, elements: int) -> int:
        """Degrees of freedom of a mesh of ``elements`` (2 per node) left by the supports:
        the most natural frequencies it has."""
        return 2 * (elements + 1) - self.constrained


SUPPORTS: dict[str, Support] = {s.name: s for s in (
    Support("clamped-clamped", "Clamped at both ends", ((W, THETA), (W, THETA))),
    Support("pinned-pinned", "Pinned at both ends", ((W,), (W,))),
    Support("clamped-free", "Clamped at x=0, free at x=L (cantilever)", ((W, THETA), ())),
    Support("clamped-pinned", "Clamped at x=0, pinned at x=L", ((W, THETA), (W,))),
)}

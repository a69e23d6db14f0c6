"""Built-in data: synthetic SEM EDS maps with a known ground truth.

:func:`synthetic_eds_map` simulates an EDS spectrum image of a mineral
cross-section (rutile, titanite, chlorite and an Fe-rich silicate by default)
and stores the true phase fractions and pure phase spectra in
``metadata.Synthetic``; :func:`ground_truth` reads them back.
"""

from hyperspy_cmeans.data._synthetic import (
    GroundTruth,
    default_phases,
    ground_truth,
    synthetic_eds_map,
)

__all__ = ["GroundTruth", "default_phases", "ground_truth", "synthetic_eds_map"]

"""Built-in data: the study's own map and synthetic SEM EDS maps with a known ground truth.

:func:`qv120_cross_section` loads the SEM EDS map of the FIB cross-section
that the original study analysed (shipped with the package, CC0), and
:func:`qv120_published_result` its published Gustafson–Kessel memberships and
data space, for comparison.

:func:`synthetic_eds_map` simulates an EDS spectrum image of a mineral
cross-section (rutile, titanite, chlorite and an Fe-rich silicate by default)
and stores the true phase fractions and pure phase spectra in
``metadata.Synthetic``; :func:`ground_truth` reads them back.
"""

from hyperspy_cmeans.data._qv120 import (
    QV120_CITATION,
    QV120PublishedResult,
    qv120_cross_section,
    qv120_published_result,
)
from hyperspy_cmeans.data._synthetic import (
    GroundTruth,
    default_phases,
    ground_truth,
    synthetic_eds_map,
)

__all__ = [
    "QV120_CITATION",
    "GroundTruth",
    "QV120PublishedResult",
    "default_phases",
    "ground_truth",
    "qv120_cross_section",
    "qv120_published_result",
    "synthetic_eds_map",
]

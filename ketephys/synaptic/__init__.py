"""Synaptic measures: field EPSPs, LTP time courses, whole-cell EPSC/EPSP trains.

=====================  ==============================================================
name                   what it does
=====================  ==============================================================
``fepsp``              per sweep and stimulus: amplitude, slope (20-80, 10-90, 20-90,
                       window, max) with fit error, fibre volley, population spike,
                       onset, QC flags (module :mod:`.field`)
``ltp``                per-minute time course on the real sweep clock, LTP magnitude
                       with CI, PTP, decay, drift/volley QC, pathways
                       (module :mod:`.potentiation`)
``psc``                EPSC/EPSP amplitude, 10-90 % rise, decay tau, train ratios,
                       holding, Rs/Rm/Cm from a test pulse (module :mod:`.wholecell`)
``io_curve``           input-output curve with a Boltzmann fit
``find_stimuli``       stimulus artifacts from the trace
``analyse``            per-recording summary feature table for the batch pipeline
=====================  ==============================================================
"""

from __future__ import annotations

from .analyse import analyse
from .artifacts import find_stimuli
from .field import FEPSP_COLUMNS, fepsp
from .io_curve import IOCurve, io_curve
from .potentiation import LTPResult, find_induction, ltp
from .testpulse import measure_test_pulse
from .wholecell import PSC_COLUMNS, PSCResult, psc

__all__ = ["fepsp", "ltp", "LTPResult", "find_induction", "psc", "io_curve",
           "find_stimuli", "measure_test_pulse", "analyse", "FEPSP_COLUMNS", "PSC_COLUMNS",
           "PSCResult", "IOCurve"]

"""Figures for ketephys results, one module per result family.

The result classes' ``plot()`` methods call these functions; they take result objects
(or plain tables) and return a :class:`matplotlib.figure.Figure`, so the report can draw
the results a run computed without analysing anything again.

=====================  =============================================================
module                 figures
=====================  =============================================================
``recording``          continuous traces (stacked) or a sweep overlay with stimuli
``spectral``           PSD per channel or channel mean (bands shaded); coherence
``tms``                TEP butterfly + GMFP with peaks, ROI signal; cleaned record
``synaptic``           LTP time course; one fEPSP sweep with its measurement marks;
                       PSC train with amplitudes; input-output curve
``longitudinal``       decay fit per group; forest plot of tau with its CI
=====================  =============================================================
"""

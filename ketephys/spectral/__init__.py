"""Spectral analysis: PSD, band power, aperiodic correction, coherence family."""

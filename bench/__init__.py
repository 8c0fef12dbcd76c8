"""ThetaVue's benchmarks: each hot path against its floor, as ratios (issue 10).

Run ``python -m bench`` (``--quick`` for the reduced set, ``--only NAME`` for
one); ``make bench`` does the same after starting the embedded services.
"""

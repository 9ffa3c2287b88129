"""`green-lint verify`: measure the energy a fix saves, by running the script before and after.

command.py orchestrates; programs.py finds the scripts and makes their after versions;
runs.py starts one child per run (probe.py, the only importer of codecarbon, and of Zeus
through gpu_energy.py); checks.py tests each run's estimate against physical bounds;
stats.py gives the paired savings, their intervals and verdicts; summary.py builds the
report's data, which report_*.py render.
"""

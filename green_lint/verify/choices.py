"""The values verify's settings may take, in one place for the config file, the command
line and the probe (the child that measures, which imports nothing it need not)."""

TRACKING_MODES = ("machine", "process")  # codecarbon's tracking_mode
METERS = ("codecarbon", "zeus")  # what reads the GPU's energy (see gpu_energy)

"""Running sessions: text, voice and demo, assembled from the pure domain, devices and engines.

Used by the command line and the benchmarks alike; nothing here prints to the terminal.
"""

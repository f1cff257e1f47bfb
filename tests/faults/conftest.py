"""The faults tier (issue 16): faults injected into a real cloud (kill -9,
a broker stopped, a disk full), load and hostile input; every scenario ends
with tests/faults/invariants.py's check after a named convergence time."""

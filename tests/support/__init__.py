"""Helpers shared by the tests: fixtures, fakes, child processes, crafted sessions."""

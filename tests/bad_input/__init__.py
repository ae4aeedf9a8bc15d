"""The bad-input matrix of issue 14: CLI cases and Python API calls as data (:mod:`.cases`) and a
runner that classifies every run (:mod:`.run`): clean, traceback, wrong result, noisy, hang.

Run it as a script to print the table: ``python -m tests.bad_input.run [--all]``.
"""

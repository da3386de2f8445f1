"""Execution-verified cases (issue 13): the tester's prompt and reply, the sandboxed programs per
task, and the `execution` record of each case. See README.md for what is and is not verified."""

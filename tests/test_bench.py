"""The benchmarks' server CPU figures count a server that forks its worker (granian)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from aislecast.bench import process_tree, server_cpu_seconds

# The worker burns 0.3 s of CPU on its main thread, says so, then waits to be read.
WORKER = (
    "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    "print('burnt', flush=True)\ntime.sleep(60)"
)
SUPERVISOR = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {WORKER!r}])"


def test_server_cpu_counts_the_forked_worker_and_its_main_thread() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR], stdout=subprocess.PIPE,
                                  text=True)  # fmt: skip
    try:
        assert supervisor.stdout is not None
        assert supervisor.stdout.readline().strip() == "burnt"  # the worker inherited the pipe
        tree = process_tree(supervisor.pid)
        total, loop = server_cpu_seconds(supervisor.pid)
        assert len(tree) == 2, tree
        # The worker's 0.3 s count in the total and in its main thread (the event loop's).
        assert loop >= 0.25
        assert total >= loop
    finally:
        for pid in reversed(process_tree(supervisor.pid)):
            os.kill(pid, signal.SIGTERM)
        supervisor.wait(timeout=30)
        if supervisor.stdout is not None:
            supervisor.stdout.close()

"""The benchmarks' helpers: server CPU figures count a server that forks its worker (granian);
a streaming phone's answers are scored in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from aislecast.bench import process_tree, scored_answers, server_cpu_seconds

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


def test_a_streaming_phones_answers_are_matched_in_order_and_late_ones_count_as_lost() -> None:
    # Five frames a second apart; the server answered the first two quickly, then fell behind:
    # frame 2 answered 5.5 s after it went (late), frame 3 4.6 s after (in time), frame 4 never.
    sent = [0.0, 1.0, 2.0, 3.0, 4.0]
    answered = [0.1, 1.2, 7.5, 7.6]
    latencies, lost = scored_answers(sent, answered, timeout_s=5.0, warmup=1)
    assert [i for i, _ in latencies] == [1, 3]  # frame 0 warms up, frame 2 came too late
    assert [latency for _, latency in latencies] == pytest.approx([0.2, 4.6])
    assert lost == 2  # frame 2 (late) and frame 4 (never)


def test_more_answers_than_frames_is_an_error() -> None:
    with pytest.raises(ValueError, match="3 answers for 2 frames"):
        scored_answers([0.0, 1.0], [0.1, 1.1, 2.1], timeout_s=5.0, warmup=0)

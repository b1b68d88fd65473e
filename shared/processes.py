"""Child processes (redis-server, the Node router) that must not outlive ours."""

from __future__ import annotations

import shutil
import subprocess
import threading


def dying_with_us(command: list[str]) -> list[str]:
    """The command run under util-linux `setpriv --pdeathsig TERM`: the child gets SIGTERM
    when we end, even killed. Linux ties the signal to the thread that started the child,
    so it is only set from the main thread (whose end is the process's end); elsewhere, or
    without setpriv, the command is unchanged and the caller's own stop() is all there is."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return command
    return [setpriv, "--pdeathsig", "TERM", "--", *command]


def stop_process(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM (a graceful stop), then SIGKILL if it has not ended after `grace` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)

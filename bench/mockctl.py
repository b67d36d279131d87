"""Start, call and stop the HTTP servers of the benchmark, and run psql.

Shared by bench/bench.py (the C bench server, bench/server.c) and
bench/economy.py (the project's mock, test/mock/civis_mock.py): both servers
take "--port 0 --port-file F", write the port they bound to F once they
listen, and answer Basic-authenticated GETs.
"""
import base64
import http.client
import os
import subprocess
import tempfile
import time


class PortFileServer:
    """A server process started on a free loopback port (read from its port
    file); its output goes to a log file removed with the port file."""

    def __init__(self, argv, api_key, name, timeout=60):
        fd, self.portfile = tempfile.mkstemp(prefix="civis_bench_port_")
        os.close(fd)
        os.unlink(self.portfile)
        self.auth = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()
        self.timeout = timeout
        self.logf = open(self.portfile + ".log", "w")
        self.proc = subprocess.Popen(argv + ["--port", "0", "--port-file", self.portfile],
                                     stdout=self.logf, stderr=self.logf)
        for _ in range(600):
            if os.path.exists(self.portfile) and os.path.getsize(self.portfile) > 0:
                break
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited early")
            time.sleep(0.05)
        else:
            raise SystemExit(f"{name} did not start")
        with open(self.portfile) as f:
            self.port = int(f.read())
        self.base = f"http://127.0.0.1:{self.port}"

    def call(self, method, path, auth=False):
        """(status, headers, body) of one request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        conn.request(method, path, headers={"Authorization": self.auth} if auth else {})
        resp = conn.getresponse()
        body = resp.read()
        headers = dict(resp.getheaders())
        conn.close()
        return resp.status, headers, body

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.logf.close()
        for f in (self.portfile, self.portfile + ".log"):
            try:
                os.unlink(f)
            except OSError:
                pass


def psql(script, timeout=300):
    """Run a psql script in a new backend; stdout lines (unaligned, tuples only)."""
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                       input=script, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise SystemExit(f"psql failed:\n{script}\n{r.stderr}")
    return r.stdout.splitlines()

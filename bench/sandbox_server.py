"""The Tastytrade sandbox process for benchmark 7, with TCP_NODELAY on its sockets.

The sandbox writes a response's headers and body in two sends; with Nagle's
algorithm on, the body waits for the client's delayed ACK of the headers,
about 40 ms per keep-alive response on Linux loopback (measured: 39 ms per
request, 0.5 s of a 10-request sync with no latency fault). The real broker
does not stall like that, so the benchmark turns Nagle off in the handler
(StreamRequestHandler.disable_nagle_algorithm) and otherwise runs the
sandbox's own entry point unchanged: the wave then measures ThetaVue, not
the simulator's TCP quirk.

Usage: python -m bench.sandbox_server [sandbox flags]
"""

import sys

from brokers.tastytrade.sandbox import http_handler
from brokers.tastytrade.sandbox.__main__ import main

http_handler._SandboxHandler.disable_nagle_algorithm = True

if __name__ == "__main__":
    sys.exit(main())

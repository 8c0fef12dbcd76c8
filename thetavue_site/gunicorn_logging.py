"""gunicorn's access log with OAuth callback parameters masked (deploy/gunicorn.conf.py).

gunicorn formats its access log from "atoms" (the request line, the query
string, the referer, headers, the WSGI environ); each string atom passes
through `mask_oauth_params`, so no format string can print a callback's
`code` or `state`.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from thetavue_site.observability import mask_oauth_params


class MaskingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            name: mask_oauth_params(value) if isinstance(value, str) else value
            for name, value in atoms.items()
        }

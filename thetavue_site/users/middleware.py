"""Authentication middleware: Clerk session JWTs and personal API tokens.

Foundation version: identifies nobody from bearer tokens yet; the
authentication issue replaces it with Clerk verification.
"""


class ClerkAuthenticationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

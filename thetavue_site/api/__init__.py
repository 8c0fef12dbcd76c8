"""The one API base every app's api/ builds on.

- errors.py: the exception handler that maps every error to DESIGN.md's
  envelope, the domain error bases included, and the API errors a view
  raises (Refused, Unavailable, TooManyRequests) instead of building a body;
- pagination.py: the one limit/offset paginator, with a maximum;
- serializers.py: strict input (unknown keys and non-boolean booleans are a
  400 naming the field) and the fast output of `.values()` rows;
- viewsets.py: the viewset whose queryset starts from the user's scope;
- views.py: strict query strings and bodies (StrictInputMixin, for viewsets
  too) and the base of commands and single reads (StrictApiView).
"""

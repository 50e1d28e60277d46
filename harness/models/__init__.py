"""Model backends: one :class:`harness.models.base.ModelBackend` each (chat requests with lazy images in, one text
per request out), registered under the ``harness.models`` entry-point group and named by a run's ``--model
NAME:SPEC``. A new backend is a module here (or in a package of its own) and one entry point.
"""

"""`subcast`: the command line for publishers and operators, built on the publisher REST API (/v1).

Standard library only, so it runs wherever Python 3.11 does, next to a local stack or a deployment.
"""

__version__ = "0.1.0"

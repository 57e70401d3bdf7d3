"""ruvopt's GitHub side: receiver, queue, worker, GitHub client and reporters.

Depends on :mod:`checks`; :mod:`checks` never imports from here.
"""
